// The demo router UI: the login page and the status page share this file.
'use strict';
const $ = (id) => document.getElementById(id);
const FIELDS = ['hostname', 'lan_ip', 'wifi_ssid'];
const LOG_KEEP = 100;

function bytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  for (; n >= 1024 && i < u.length - 1; i++) n /= 1024;
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}

function duration(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24;
  const m = Math.floor(s / 60) % 60;
  return (d ? d + 'd ' : '') + h + 'h ' + m + 'm ' + (s % 60) + 's';
}

// Every API answer: a lapsed session sends the user to the login page.
async function api(path, opts) {
  const r = await fetch('/api/' + path, Object.assign({cache: 'no-store'}, opts));
  if (r.status === 401) {
    location.href = '/login/';
    throw new Error('logged out');
  }
  return r;
}

function cell(tr, text) {
  tr.insertCell().textContent = text;
}

async function refreshStatus() {
  const s = await (await api('status')).json();
  $('host-shown').textContent = s.hostname;
  document.title = 'Status - ' + s.hostname;
  $('user').textContent = s.user;
  $('uptime').textContent = duration(s.uptime);
  const body = document.createElement('tbody');
  body.id = 'ifaces';
  for (const i of s.interfaces) {
    const tr = body.insertRow();
    cell(tr, i.name);
    cell(tr, i.ipv4 || 'SSID ' + i.ssid);
    cell(tr, bytes(i.rx_bytes));
    cell(tr, bytes(i.tx_bytes));
  }
  $('ifaces').replaceWith(body);
}

function showSettings(s) {
  for (const f of FIELDS) $(f).value = s[f];
  $('dhcp_enabled').checked = s.dhcp_enabled;
}

function markErrors(fields) {
  for (const f of FIELDS) {
    const why = fields[f];
    $('err-' + f).textContent = why || '';
    $('err-' + f).hidden = !why;
    $(f).setAttribute('aria-invalid', why ? 'true' : 'false');
  }
}

async function saveSettings(ev) {
  ev.preventDefault();
  const body = new URLSearchParams();
  for (const f of FIELDS) body.set(f, $(f).value);
  body.set('dhcp_enabled', $('dhcp_enabled').checked ? '1' : '0');
  const msg = $('save-msg');
  msg.textContent = 'Saving...';
  msg.className = '';
  const r = await api('settings', {method: 'POST', body});
  let j;
  try {
    j = await r.json();
  } catch (e) {
    j = {error: 'the router answered ' + r.status};
  }
  markErrors(j.fields || {});
  if (r.ok) {
    showSettings(j);
    msg.textContent = 'Saved.';
    refreshStatus();
  } else {
    msg.textContent = 'Not saved: ' + j.error + '.';
    msg.className = 'err';
  }
}

function startLog() {
  const list = $('log'), state = $('log-state');
  const es = new EventSource('/api/log');
  es.onopen = () => { state.textContent = 'live'; };
  es.onerror = () => {
    state.textContent = es.readyState === EventSource.CLOSED ? 'stopped' : 'reconnecting';
  };
  es.onmessage = (e) => {
    const li = document.createElement('li');
    li.textContent = e.data;
    list.append(li);
    while (list.children.length > LOG_KEEP) list.firstChild.remove();
    list.scrollTop = list.scrollHeight;
  };
}

async function logout() {
  try {
    await api('logout', {method: 'POST'});
  } finally {
    location.href = '/login/';
  }
}

function statusPage() {
  $('settings').addEventListener('submit', saveSettings);
  $('logout').addEventListener('click', logout);
  api('settings').then((r) => r.json()).then(showSettings);
  refreshStatus();
  setInterval(refreshStatus, 2000);
  startLog();
}

if ($('login-form')) {
  $('login-error').hidden = !/[?&]failed=1/.test(location.search);
} else if ($('settings')) {
  statusPage();
}
