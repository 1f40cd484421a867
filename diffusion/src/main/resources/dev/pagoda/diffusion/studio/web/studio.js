// Pagoda studio page: plain browser JavaScript, no build step. Talks to the JSON API of
// `pagoda serve` (see README): /api/info, /api/layers, /api/generate, /api/compare,
// /api/progress/{id} (server-sent events), /api/cancel/{id}, /api/gallery.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { job: null, source: null, init: null, mask: null, info: null, stepEvents: 0, previews: 0 };
window.studio = state; // for the browser test and for poking around in the console

async function api(path, options) {
  const res = await fetch(path, options);
  const type = res.headers.get('Content-Type') || '';
  const body = type.startsWith('application/json') ? await res.json() : await res.text();
  if (!res.ok) {
    const err = new Error(body && body.error ? body.error : ('HTTP ' + res.status));
    err.field = body && body.field;
    err.status = res.status;
    throw err;
  }
  return body;
}

function clearErrors() {
  document.querySelectorAll('.field-error').forEach((e) => { e.textContent = ''; });
}

function showError(field, message) {
  const el = document.querySelector(`.field-error[data-error-for="${field || ''}"]`) || $('form-error');
  el.textContent = message;
}

// ---- form <-> request ----------------------------------------------------------------------

function layerList(text) {
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

function request() {
  const num = (id) => ($(id).value.trim() === '' ? null : Number($(id).value));
  const r = {
    prompt: $('prompt').value,
    negative_prompt: $('negative').value,
    steps: num('steps'),
    guidance_scale: num('cfg'),
    pag_scale: num('pag-scale'),
    pag_layers: layerList($('pag-layers').value),
    seed: num('seed'),
    width: num('width'),
    height: num('height'),
    scheduler: $('scheduler').value,
  };
  if (state.init) {
    r.init_image = state.init;
    if (state.mask) r.mask = state.mask;
    if (num('strength') !== null) r.strength = num('strength');
  }
  return r;
}

function reuse(params) {
  const set = (id, v) => { if (v !== undefined && v !== null) $(id).value = v; };
  set('prompt', params.prompt);
  set('negative', params.negative_prompt || '');
  set('steps', params.steps);
  set('cfg', params.guidance_scale);
  set('pag-scale', params.pag_scale);
  if (params.pag_layers) set('pag-layers', [].concat(params.pag_layers).join(', '));
  set('seed', params.seed);
  set('width', params.width);
  set('height', params.height);
  if (params.scheduler) set('scheduler', params.scheduler);
  validateLayers();
  syncPicker();
  selectTab('generate');
}

// ---- PAG layers: picker and live validation -------------------------------------------------

let validateTimer = null;
let validateSeq = 0;

async function validateLayers() {
  const seq = ++validateSeq;
  const input = $('pag-layers');
  const status = $('layers-status');
  const patterns = input.value;
  try {
    const r = await api('/api/layers?pattern=' + encodeURIComponent(patterns));
    if (seq !== validateSeq) return;
    input.setAttribute('aria-invalid', 'false');
    status.classList.remove('bad');
    status.textContent = `selects ${r.selected.length} self-attention module${r.selected.length === 1 ? '' : 's'}: `
      + r.selected.join(', ');
  } catch (e) {
    if (seq !== validateSeq) return;
    input.setAttribute('aria-invalid', 'true');
    status.classList.add('bad');
    status.textContent = e.message;
  }
}

function syncPicker() {
  const chosen = new Set(layerList($('pag-layers').value));
  document.querySelectorAll('#layer-picker input').forEach((box) => { box.checked = chosen.has(box.value); });
}

function buildPicker(layers) {
  const picker = $('layer-picker');
  picker.textContent = '';
  for (const g of layers.groups) {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = g.pattern;
    box.addEventListener('change', () => {
      const list = layerList($('pag-layers').value).filter((p) => p !== g.pattern);
      if (box.checked) list.push(g.pattern);
      $('pag-layers').value = list.join(', ');
      validateLayers();
    });
    label.append(box, document.createTextNode(`${g.pattern} (${g.modules})`));
    picker.append(label);
  }
  syncPicker();
}

// ---- generation and progress ----------------------------------------------------------------

function busy(on) {
  $('generate').disabled = on;
  $('compare-run').disabled = on;
  $('cancel').disabled = !on;
}

function progressText(text, fraction) {
  $('progress-text').textContent = text;
  if (fraction !== undefined) $('progress-bar').style.width = Math.round(fraction * 100) + '%';
}

function fmt(x, digits) {
  return x === null || x === undefined ? '?' : Number(x).toFixed(digits);
}

function resetCounters() {
  state.stepEvents = 0;
  state.previews = 0;
  state.lastStepText = null;
}

function follow(job, handlers) {
  state.job = job.id;
  busy(true);
  const source = new EventSource(job.progress);
  state.source = source;
  const end = () => { source.close(); state.source = null; state.job = null; busy(false); };
  source.addEventListener('queued', (e) => {
    const d = JSON.parse(e.data);
    progressText(d.ahead > 0 ? `queued behind ${d.ahead} job${d.ahead === 1 ? '' : 's'}` : 'queued', 0);
  });
  source.addEventListener('started', () => progressText('started', 0));
  source.addEventListener('stage', (e) => {
    const d = JSON.parse(e.data);
    if (d.stage !== 'denoise') progressText(d.stage + ' ...');
  });
  source.addEventListener('step', (e) => {
    const d = JSON.parse(e.data);
    state.stepEvents++;
    const cell = d.cells ? ` · cell ${d.cell + 1}/${d.cells}` : '';
    state.lastStepText = `step ${d.step}/${d.steps} · ${fmt(d.s_per_it, 2)} s/it · ETA ${fmt(d.eta_s, 0)} s${cell}`;
    progressText(state.lastStepText, d.step / d.steps);
    $('progress-text').dataset.steps = state.stepEvents;
  });
  source.addEventListener('preview', (e) => {
    state.previews++;
    const d = JSON.parse(e.data);
    if (handlers.preview) handlers.preview(d);
  });
  source.addEventListener('cell_started', (e) => handlers.cellStarted && handlers.cellStarted(JSON.parse(e.data)));
  source.addEventListener('cell', (e) => handlers.cell && handlers.cell(JSON.parse(e.data)));
  source.addEventListener('cancelling', () => progressText('cancelling at the next step ...'));
  source.addEventListener('done', (e) => { end(); handlers.done(JSON.parse(e.data)); });
  source.addEventListener('cancelled', (e) => {
    end();
    const d = JSON.parse(e.data);
    progressText(`cancelled after ${d.completed_steps} steps; nothing written`, 0);
  });
  source.addEventListener('error', (e) => {
    if (e.data) {
      end();
      const d = JSON.parse(e.data);
      progressText('failed');
      showError(d.field, d.error);
    } else if (source.readyState === EventSource.CLOSED) {
      end();
      progressText('lost the connection to the server');
    }
  });
}

async function generate() {
  clearErrors();
  resetCounters();
  try {
    const job = await api('/api/generate', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request()) });
    $('result-caption').textContent = '';
    follow(job, {
      preview: (d) => { $('preview').src = d.image; },
      done: (d) => {
        $('result').src = d.url;
        $('result').dataset.file = d.file;
        $('result-caption').textContent = `${d.file} · ${d.width}x${d.height} · seed ${d.seed} · ${fmt(d.seconds, 1)} s`;
        $('result-params').textContent = JSON.stringify(d.params, null, 2);
        progressText('done', 1);
      },
    });
  } catch (e) {
    showError(e.field, e.message);
  }
}

async function cancel() {
  if (!state.job) return;
  try {
    await api('/api/cancel/' + state.job, { method: 'POST' });
  } catch (e) {
    showError(null, e.message);
  }
}

// ---- compare grid ---------------------------------------------------------------------------

async function compare() {
  clearErrors();
  resetCounters();
  const scales = $('cmp-scales').value.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const sets = $('cmp-sets').value.split('\n').map(layerList).filter((l) => l.length > 0);
  const body = Object.assign(request(), { compare: { pag_scales: scales, layer_sets: sets } });
  try {
    const job = await api('/api/compare', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body) });
    const grid = $('grid');
    grid.textContent = '';
    const head = grid.insertRow();
    head.append(document.createElement('th'));
    for (const s of scales) {
      const th = document.createElement('th');
      th.textContent = 'PAG ' + s;
      head.append(th);
    }
    sets.forEach((set) => {
      const row = grid.insertRow();
      const th = document.createElement('th');
      th.textContent = set.join(', ');
      row.append(th);
      for (let c = 0; c < scales.length; c++) {
        const td = row.insertCell();
        td.className = 'pending';
        td.textContent = 'waiting';
      }
    });
    $('compare-text').textContent = `${sets.length} x ${scales.length} grid queued`;
    follow(job, {
      cellStarted: (d) => { grid.rows[d.row + 1].cells[d.col + 1].textContent = 'running'; },
      preview: (d) => {
        const td = grid.rows[d.row + 1].cells[d.col + 1];
        td.textContent = '';
        const img = document.createElement('img');
        img.src = d.image;
        img.style.imageRendering = 'pixelated';
        td.append(img);
      },
      cell: (d) => {
        const td = grid.rows[d.row + 1].cells[d.col + 1];
        td.className = 'done';
        td.textContent = '';
        const img = document.createElement('img');
        img.src = d.url;
        img.alt = `PAG ${d.params.pag_scale}, layers ${d.params.pag_layers.join(', ')}`;
        img.dataset.file = d.file;
        img.addEventListener('click', () => lightbox(d.url, d.file, d.params));
        td.append(img);
      },
      done: (d) => {
        $('compare-text').textContent = `grid done: ${d.cells.length} images (click one for full size)`;
        progressText('done', 1);
      },
    });
  } catch (e) {
    showError(e.field, e.message);
  }
}

// ---- gallery and lightbox -------------------------------------------------------------------

function lightbox(url, file, params) {
  $('lightbox-img').src = url;
  $('lightbox-params').textContent = file + '\n' + JSON.stringify(params, null, 2);
  $('lightbox-download').href = url + '?download=1';
  $('lightbox-reuse').onclick = () => { closeLightbox(); reuse(params); };
  $('lightbox').hidden = false;
}

function closeLightbox() {
  $('lightbox').hidden = true;
}

async function loadGallery() {
  const box = $('gallery');
  try {
    const r = await api('/api/gallery');
    box.textContent = '';
    for (const img of r.images) {
      const card = document.createElement('div');
      card.className = 'card';
      const pic = document.createElement('img');
      pic.src = img.url;
      pic.loading = 'lazy';
      pic.alt = img.params.prompt || img.file;
      pic.addEventListener('click', () => lightbox(img.url, img.file, img.params));
      const prompt = document.createElement('div');
      prompt.className = 'prompt';
      prompt.textContent = img.params.prompt || '(no prompt)';
      const meta = document.createElement('div');
      meta.className = 'muted';
      meta.textContent = `seed ${img.params.seed} · PAG ${img.params.pag_scale} · ${[].concat(img.params.pag_layers || []).join(', ')}`;
      const buttons = document.createElement('div');
      buttons.className = 'buttons';
      const again = document.createElement('button');
      again.type = 'button';
      again.textContent = 'Reuse';
      again.addEventListener('click', () => reuse(img.params));
      const dl = document.createElement('a');
      dl.href = img.url + '?download=1';
      dl.textContent = 'Download';
      buttons.append(again, dl);
      card.append(pic, prompt, meta, buttons);
      box.append(card);
    }
    if (r.images.length === 0) box.textContent = 'No images yet.';
  } catch (e) {
    box.textContent = e.message;
  }
}

// ---- images for img2img / inpainting --------------------------------------------------------

function readImage(input, key, thumb) {
  const file = input.files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => { state[key] = reader.result; $(thumb).src = reader.result; };
  reader.readAsDataURL(file);
}

// ---- wiring ---------------------------------------------------------------------------------

function selectTab(name) {
  document.querySelectorAll('.tab').forEach((t) => t.classList.toggle('active', t.dataset.tab === name));
  document.querySelectorAll('.view').forEach((v) => v.classList.toggle('active', v.id === 'view-' + name));
  if (name === 'gallery') loadGallery();
}

async function init() {
  document.querySelectorAll('.tab').forEach((t) => t.addEventListener('click', () => selectTab(t.dataset.tab)));
  $('generate').addEventListener('click', generate);
  $('cancel').addEventListener('click', cancel);
  $('compare-run').addEventListener('click', compare);
  $('gallery-refresh').addEventListener('click', loadGallery);
  $('lightbox-close').addEventListener('click', closeLightbox);
  $('seed-random').addEventListener('click', () => { $('seed').value = Math.floor(Math.random() * 4294967296); });
  $('pag-layers').addEventListener('input', () => {
    syncPicker();
    clearTimeout(validateTimer);
    validateTimer = setTimeout(validateLayers, 200);
  });
  $('init-image').addEventListener('change', () => readImage($('init-image'), 'init', 'init-thumb'));
  $('mask').addEventListener('change', () => readImage($('mask'), 'mask', 'mask-thumb'));
  $('clear-images').addEventListener('click', () => {
    state.init = null;
    state.mask = null;
    $('init-image').value = '';
    $('mask').value = '';
    $('init-thumb').removeAttribute('src');
    $('mask-thumb').removeAttribute('src');
  });
  try {
    const info = await api('/api/info');
    state.info = info;
    $('model-name').textContent = `${info.model} · ${info.backend}`;
    for (const s of info.schedulers) {
      const o = document.createElement('option');
      o.value = s;
      o.textContent = s;
      $('scheduler').append(o);
    }
    $('scheduler').value = 'euler';
    for (const id of ['width', 'height']) {
      $(id).value = info.default_size;
      $(id).step = info.size_step;
    }
    $('pag-layers').value = info.default_pag_layers.join(', ');
    buildPicker(await api('/api/layers'));
    validateLayers();
    document.body.dataset.ready = 'true';
  } catch (e) {
    showError(null, 'cannot reach the studio API: ' + e.message);
  }
}

init();
