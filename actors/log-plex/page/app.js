// dynod log page: one websocket to /apps/APP/logs, lines shown as they
// come, filtered here (source, process, text), paused on request, kept
// scrolled to the bottom unless the reader scrolled up, reconnected with
// back-off. Log text only ever goes into textContent, never HTML.
'use strict';
(function () {
  const MAX_LINES = 5000;
  const BACKOFF_MIN_MS = 500, BACKOFF_MAX_MS = 10000;
  const app = decodeURIComponent(location.pathname.split('/')[2] || '');
  const log = document.getElementById('log');
  const state = document.getElementById('state');
  const held = document.getElementById('held');
  const pauseButton = document.getElementById('pause');
  const fSource = document.getElementById('f-source');
  const fProcess = document.getElementById('f-process');
  const fText = document.getElementById('f-text');
  document.getElementById('title').textContent = app + ' logs';
  document.title = app + ' logs';

  let token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) token = window.prompt('Log token for ' + app + ' (dyno logs:token -a ' + app + ')') || '';

  let paused = false, pending = [], backoff = BACKOFF_MIN_MS, lastLine = null, ws = null;

  // `<time> <source>[<process>]: <text>`
  const LINE_RE = /^(\S+) ([a-z]+)\[([A-Za-z0-9._-]+)\]: ([\s\S]*)$/;

  function matches(div) {
    const src = fSource.value, proc = fProcess.value.trim(), text = fText.value;
    if (src && div.dataset.source !== src) return false;
    if (proc) {
      const p = div.dataset.process;
      if (p !== proc && p.split('.')[0] !== proc) return false;
    }
    if (text && div.textContent.indexOf(text) < 0) return false;
    return true;
  }

  function render(line) {
    const div = document.createElement('div');
    div.className = 'line';
    const m = LINE_RE.exec(line);
    if (m) {
      div.dataset.source = m[2];
      div.dataset.process = m[3];
      div.classList.add('src-' + m[2]);
      if (m[2] === 'dynod' && m[3] === 'router') div.classList.add('src-dynod-router');
      if (m[2] === 'dynod' && m[3] === 'log-plex') div.classList.add('notice');
      const ts = document.createElement('span');
      ts.className = 'ts';
      ts.textContent = m[1] + ' ';
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = m[2] + '[' + m[3] + ']: ';
      const text = document.createElement('span');
      text.className = 'text';
      text.textContent = m[4];
      div.append(ts, who, text);
    } else {
      div.dataset.source = '';
      div.dataset.process = '';
      div.textContent = line;
    }
    if (!matches(div)) div.classList.add('hidden');
    return div;
  }

  function atBottom() {
    const el = document.scrollingElement || document.documentElement;
    return el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  }

  function show(lines) {
    const follow = atBottom();
    const frag = document.createDocumentFragment();
    for (const line of lines) frag.appendChild(render(line));
    log.appendChild(frag);
    while (log.childElementCount > MAX_LINES) log.firstElementChild.remove();
    if (follow) window.scrollTo(0, document.body.scrollHeight);
  }

  function receive(lines) {
    if (lines.length) lastLine = lines[lines.length - 1];
    if (paused) {
      pending.push(...lines);
      if (pending.length > MAX_LINES) pending.splice(0, pending.length - MAX_LINES);
      held.textContent = pending.length + ' held';
    } else {
      show(lines);
    }
  }

  function setState(text, cls) {
    state.textContent = text;
    state.className = 'state ' + (cls || '');
  }

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = scheme + '//' + location.host + '/apps/' + encodeURIComponent(app) +
                '/logs?n=' + (lastLine ? 1500 : 100) + '&token=' + encodeURIComponent(token);
    let skipping = lastLine;     // on a reconnect, skip history already shown
    let opened = false;
    ws = new WebSocket(url);
    ws.onopen = function () { opened = true; backoff = BACKOFF_MIN_MS; setState('live', 'live'); };
    ws.onmessage = function (ev) {
      let lines = String(ev.data).split('\n');
      if (lines.length && lines[lines.length - 1] === '') lines.pop();
      if (skipping !== null) {
        const at = lines.lastIndexOf(skipping);
        if (at >= 0) { lines = lines.slice(at + 1); skipping = null; }
      }
      receive(lines);
    };
    ws.onclose = function (ev) {
      if (!opened && ev.code === 1006 && backoff === BACKOFF_MIN_MS) {
        setState('refused or unreachable: retrying', 'down');
      } else {
        setState('disconnected: retrying in ' + Math.round(backoff / 1000) + ' s', 'down');
      }
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    };
  }

  function refilter() {
    for (const div of log.children) div.classList.toggle('hidden', !matches(div));
  }
  fSource.addEventListener('change', refilter);
  fProcess.addEventListener('input', refilter);
  fText.addEventListener('input', refilter);
  pauseButton.addEventListener('click', function () {
    paused = !paused;
    pauseButton.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) {
      show(pending);
      pending = [];
      held.textContent = '';
    }
  });

  connect();
})();
