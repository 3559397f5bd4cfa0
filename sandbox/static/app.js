/* Tandem sandbox page: acts as a demo leader in the local workspace and draws what they see.
   Plain JavaScript, no dependencies. The server does the Slack part; this file draws Block
   Kit, sends clicks and forms, and refreshes whenever the event stream says something moved. */
'use strict';

const S = {
  boot: null,          // /ui/bootstrap: team, bot, leaders, suggestions
  me: null,            // the leader this browser acts as
  channel: null,       // the open conversation
  thread: null,        // ts of the open thread's root
  tab: 'messages',     // in Tandem's app view: 'home' or 'messages'
  screen: null,        // the last /ui/screen answer
  drawn: {},           // what each pane last drew, to redraw only on change
  seen: {},            // channel id -> latest ts seen, for unread marks
  modalErrors: null,   // block_id -> message, from response_action: errors
  refreshing: false,
  again: false,
};

const EMOJI = {
  wave: '👋', sparkles: '✨', bulb: '💡', seedling: '🌱', calendar: '📅', spiral_calendar_pad: '🗓️',
  white_check_mark: '✅', heavy_check_mark: '✔️', heart: '❤️', thinking_face: '🤔', tada: '🎉',
  '+1': '👍', thumbsup: '👍', '-1': '👎', thumbsdown: '👎', eyes: '👀', pray: '🙏', raised_hands: '🙌',
  handshake: '🤝', books: '📚', book: '📖', memo: '📝', pencil: '✏️', star: '⭐', sunny: '☀️',
  coffee: '☕', speech_balloon: '💬', thought_balloon: '💭', hourglass: '⌛', alarm_clock: '⏰',
  lock: '🔒', link: '🔗', warning: '⚠️', information_source: 'ℹ️', smile: '😄', slightly_smiling_face: '🙂',
  people_holding_hands: '🧑‍🤝‍🧑', busts_in_silhouette: '👥', compass: '🧭', leaves: '🍃', herb: '🌿',
};

// ---- small helpers ------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'html') node.innerHTML = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (selector, root = document) => root.querySelector(selector);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const unslack = (s) => String(s).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const me = () => S.boot.leaders.find((l) => l.id === S.me);

async function api(path, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 20000);
  const options = { signal: controller.signal, headers: {} };
  if (body !== undefined) {
    options.method = 'POST';
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(path, options);
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    if (!response.ok || !data || data.ok === false) {
      const error = new Error((data && data.message) || `The sandbox answered with HTTP ${response.status}.`);
      error.code = data && data.error;
      throw error;
    }
    return data;
  } catch (error) {
    if (error.name === 'AbortError') throw new Error('The sandbox took too long to answer. Please try again.');
    if (error instanceof TypeError) throw new Error('Could not reach the sandbox. Is it still running?');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function toast(message, kind = 'info') {
  const node = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  $('#toasts').append(node);
  setTimeout(() => node.remove(), kind === 'error' ? 9000 : 6000);
}

function avatar(person, size = '') {
  if (person.is_bot && person.name === S.boot.bot.name) {
    return h('img', { class: `avatar bot ${size}`, src: '/static/tandem.svg', alt: '' });
  }
  return h('span', { class: `avatar ${size}`, style: `background:${person.colour}`, 'aria-hidden': 'true' }, person.initials);
}

async function busy(button, work) {
  if (button) { button.disabled = true; button.classList.add('busy'); }
  try { return await work(); } finally {
    if (button) { button.disabled = false; button.classList.remove('busy'); }
  }
}

// ---- mrkdwn -------------------------------------------------------------------------------

function angle(inner) {
  const [target, label] = [inner.split('|')[0], inner.includes('|') ? inner.slice(inner.indexOf('|') + 1) : null];
  if (target.startsWith('@')) {
    const id = target.slice(1);
    const name = label || personName(id);
    return `<span class="mention${id === S.me ? ' me' : ''}">@${esc(unslack(name))}</span>`;
  }
  if (target.startsWith('#')) {
    const channel = (S.screen?.conversations || []).find((c) => c.id === target.slice(1));
    return `<span class="mention">#${esc(unslack(label || (channel ? channel.label : target.slice(1))))}</span>`;
  }
  if (target.startsWith('!')) {
    const word = target.slice(1).split('^')[0];
    const text = label || (['here', 'channel', 'everyone'].includes(word) ? `@${word}` : word);
    return `<span class="mention">${esc(unslack(text))}</span>`;
  }
  const url = unslack(target);
  const text = esc(unslack(label || target));
  if (/^(https?:|mailto:)/i.test(url)) {
    return `<a href="${esc(url)}" target="_blank" rel="noopener noreferrer">${text}</a>`;
  }
  return text;
}

function personName(id) {
  if (id === S.boot.bot.id) return S.boot.bot.name;
  const leader = S.boot.leaders.find((l) => l.id === id);
  return leader ? leader.name : id;
}

/** Slack mrkdwn to safe HTML: *bold*, _italic_, ~strike~, `code`, ```blocks```, > quotes,
 *  <links|labels>, <@mentions>, :emoji:, line breaks, and Slack's &amp; &lt; &gt; escapes. */
function mrkdwn(source) {
  const held = [];
  const hold = (html) => `\u0001${held.push(html) - 1}\u0002`;
  let s = String(source ?? '');
  s = s.replace(/```([\s\S]*?)```/g, (_, code) => hold(`<pre class="mk-pre">${esc(unslack(code.replace(/^\n/, '')))}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_, code) => hold(`<code>${esc(unslack(code))}</code>`));
  s = s.replace(/<([^<>\n]+)>/g, (_, inner) => hold(angle(inner)));
  s = esc(unslack(s));
  s = s.replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?!\w)/g, '$1<strong>$2</strong>');
  s = s.replace(/(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?!\w)/g, '$1<em>$2</em>');
  s = s.replace(/(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?!\w)/g, '$1<del>$2</del>');
  s = s.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
  s = s.split('\n').map((line) => (line.startsWith('&gt; ') ? `<span class="mk-quote">${line.slice(5)}</span>` : line)).join('\n');
  s = s.replace(/\n/g, '<br>');
  return s.replace(/\u0001(\d+)\u0002/g, (_, i) => held[Number(i)]);
}

function textObject(object, tag = 'span') {
  if (!object) return h(tag);
  if (typeof object === 'string') return h(tag, {}, object);
  if (object.type === 'mrkdwn') return h(tag, { class: 'mk', html: mrkdwn(object.text) });
  const plain = object.emoji === false ? object.text : String(object.text ?? '').replace(/:([a-z0-9_+-]+):/g, (w, n) => EMOJI[n] || w);
  return h(tag, {}, plain);
}

const plain = (object) => (object && typeof object === 'object' ? String(object.text ?? '') : String(object ?? ''));

// ---- Block Kit ----------------------------------------------------------------------------

/* ctx: { surface: 'message'|'modal'|'home', message?, viewId? } */
function renderBlocks(blocks, ctx) {
  const root = h('div', { class: 'bk' });
  for (const block of blocks || []) {
    try { root.append(renderBlock(block, ctx)); } catch (error) {
      root.append(h('div', { class: 'bk-unsupported' }, `[a ${block && block.type} block this page could not draw]`));
    }
  }
  return root;
}

function renderBlock(block, ctx) {
  switch (block.type) {
    case 'section': {
      const body = h('div', { class: 'bk-section-body' });
      if (block.text) body.append(textObject(block.text, 'div'));
      if (block.fields) body.append(h('div', { class: 'bk-fields' }, block.fields.map((f) => textObject(f, 'div'))));
      const row = h('div', { class: 'bk-section', dataset: { block: block.block_id || '' } }, body);
      if (block.accessory) row.append(h('div', { class: 'bk-accessory' }, renderElement(block.accessory, block, ctx)));
      return row;
    }
    case 'header':
      return h('div', { class: 'bk-header' }, textObject(block.text));
    case 'context':
      return h('div', { class: 'bk-context' }, (block.elements || []).map((e) => (e.type === 'image' ? imagePlaceholder(e) : textObject(e))));
    case 'divider':
      return h('hr', { class: 'bk-divider' });
    case 'actions':
      return h('div', { class: 'bk-actions', dataset: { block: block.block_id || '' } }, (block.elements || []).map((e) => renderElement(e, block, ctx)));
    case 'input':
      return renderInput(block, ctx);
    case 'image':
      return h('div', {}, block.title ? textObject(block.title, 'div') : null, imagePlaceholder(block));
    case 'rich_text':
      return renderRichText(block);
    default:
      return h('div', { class: 'bk-unsupported' }, `[${block.type} block]`);
  }
}

function imagePlaceholder(element) {
  return h('span', { class: 'bk-image', title: element.image_url || '' }, '🖼', element.alt_text || 'image');
}

function renderRichText(block) {
  const root = h('div', { class: 'bk-rich' });
  const inline = (elements) => (elements || []).map((e) => {
    if (e.type === 'text') {
      let node = document.createTextNode(e.text);
      const style = e.style || {};
      if (style.code) node = h('code', {}, node);
      if (style.bold) node = h('strong', {}, node);
      if (style.italic) node = h('em', {}, node);
      if (style.strike) node = h('del', {}, node);
      return node;
    }
    if (e.type === 'link') return h('a', { href: /^(https?:|mailto:)/i.test(e.url) ? e.url : '#', target: '_blank', rel: 'noopener noreferrer' }, e.text || e.url);
    if (e.type === 'user') return h('span', { class: `mention${e.user_id === S.me ? ' me' : ''}` }, `@${personName(e.user_id)}`);
    if (e.type === 'channel') return h('span', { class: 'mention' }, `#${e.channel_id}`);
    if (e.type === 'emoji') return EMOJI[e.name] || `:${e.name}:`;
    if (e.type === 'broadcast') return h('span', { class: 'mention' }, `@${e.range}`);
    return '';
  });
  for (const part of block.elements || []) {
    if (part.type === 'rich_text_section') root.append(h('p', {}, inline(part.elements)));
    else if (part.type === 'rich_text_quote') root.append(h('p', { class: 'mk-quote' }, inline(part.elements)));
    else if (part.type === 'rich_text_preformatted') root.append(h('pre', { class: 'mk-pre' }, inline(part.elements)));
    else if (part.type === 'rich_text_list') {
      root.append(h(part.style === 'ordered' ? 'ol' : 'ul', {}, (part.elements || []).map((item) => h('li', {}, inline(item.elements)))));
    }
  }
  return root;
}

function options(element) {
  const flat = [...(element.options || [])];
  for (const group of element.option_groups || []) flat.push(...(group.options || []));
  return flat;
}

function peopleOptions() {
  return S.boot.leaders.map((l) => ({ value: l.id, text: { type: 'plain_text', text: l.name } }));
}

function channelOptions() {
  return (S.screen?.conversations || []).filter((c) => c.kind !== 'im').map((c) => ({ value: c.id, text: { type: 'plain_text', text: `#${c.label}` } }));
}

/** Sends a block_actions for an element outside input blocks (messages, home, modal actions). */
async function act(element, value, control) {
  if (element.confirm && !(await confirmDialog(element.confirm))) return;
  if (element.url) window.open(element.url, '_blank', 'noopener');
  const body = { user: S.me, action_id: element.action_id };
  if (value !== undefined) body.value = value;
  if (control.ctx.viewId) body.view_id = control.ctx.viewId;
  else body.message = { channel: control.ctx.message.channel, ts: control.ctx.message.ts, ephemeral: control.ctx.message.ephemeral };
  try {
    await busy(control.node, () => api('/ui/action', body));
    scheduleRefresh();
  } catch (error) {
    toast(error.message, 'error');
  }
}

function renderElement(element, block, ctx, inInput = false) {
  const live = !inInput || block.dispatch_action;  // input elements wait for Submit
  const control = { ctx, node: null };
  const send = (value) => (live ? act(element, value, control) : undefined);
  const meta = { block: block.block_id || '', action: element.action_id || '', type: element.type };
  let node;
  switch (element.type) {
    case 'button': {
      const style = element.style === 'primary' ? ' btn-primary' : element.style === 'danger' ? ' btn-danger' : '';
      node = h('button', { type: 'button', class: `btn${style}`, onclick: () => send(undefined) }, plain(element.text));
      break;
    }
    case 'static_select': case 'users_select': case 'conversations_select': case 'channels_select': case 'external_select': {
      const list = element.type === 'users_select' ? peopleOptions()
        : element.type.endsWith('_select') && element.type !== 'static_select' && element.type !== 'external_select' ? channelOptions()
        : options(element);
      const initial = (element.initial_option && element.initial_option.value) || element.initial_user || element.initial_conversation || element.initial_channel || '';
      node = h('select', { class: `field${inInput ? '' : ' inline'}`, dataset: meta, onchange: (e) => send(e.target.value) },
        h('option', { value: '', disabled: true, selected: !initial }, plain(element.placeholder) || 'Choose an option'),
        groupedOptions(element, list, (o) => o.value === initial));
      break;
    }
    case 'multi_static_select': case 'multi_users_select': case 'multi_conversations_select': case 'multi_channels_select': case 'checkboxes': {
      const list = element.type === 'multi_users_select' ? peopleOptions()
        : element.type.startsWith('multi_') && element.type !== 'multi_static_select' ? channelOptions()
        : options(element);
      const initial = new Set([...(element.initial_options || []).map((o) => o.value), ...(element.initial_users || []), ...(element.initial_conversations || []), ...(element.initial_channels || [])]);
      const holder = h('div', { class: element.type === 'checkboxes' ? 'choices' : 'choices multi', dataset: meta, role: 'group' });
      const changed = () => send([...holder.querySelectorAll('input:checked')].map((i) => i.value));
      for (const option of list) {
        holder.append(h('label', { class: 'choice' },
          h('input', { type: 'checkbox', value: option.value, checked: initial.has(option.value), onchange: changed }),
          h('span', {}, textObject(option.text), option.description ? h('small', {}, plain(option.description)) : null)));
      }
      node = holder;
      break;
    }
    case 'radio_buttons': {
      const name = `r-${Math.random().toString(36).slice(2)}`;
      const initial = element.initial_option && element.initial_option.value;
      node = h('div', { class: 'choices', dataset: meta, role: 'radiogroup' }, options(element).map((option) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name, value: option.value, checked: option.value === initial, onchange: () => send(option.value) }),
        h('span', {}, textObject(option.text), option.description ? h('small', {}, plain(option.description)) : null))));
      break;
    }
    case 'overflow': {
      const menu = h('div', { class: 'menu', hidden: true });
      const toggle = h('button', { type: 'button', class: 'btn btn-sm', 'aria-label': 'More actions', onclick: () => { menu.hidden = !menu.hidden; } }, '⋯');
      for (const option of options(element)) {
        menu.append(h('button', { type: 'button', onclick: () => { menu.hidden = true; send(option.value); } }, plain(option.text)));
      }
      node = h('span', { class: 'menu-wrap' }, toggle, menu);
      control.node = toggle;
      break;
    }
    case 'datepicker': {
      // Shown dd/mm/yyyy whatever the browser's language (a native date input follows it,
      // so an en-US browser would show mm/dd/yyyy); the calendar button opens the native picker.
      const shown = h('input', {
        type: 'text', class: `field date${inInput ? '' : ' inline'}`, value: britishDate(element.initial_date), dataset: meta,
        placeholder: 'dd/mm/yyyy', inputmode: 'numeric', 'aria-label': plain(block.label) || 'Date',
        onchange: (e) => send(isoDate(e.target.value)),
      });
      const picker = h('input', {
        type: 'date', class: 'date-native', tabindex: '-1', 'aria-hidden': 'true',
        onchange: (e) => { shown.value = britishDate(e.target.value); shown.dispatchEvent(new Event('change')); },
      });
      const calendar = h('button', {
        type: 'button', class: 'btn btn-sm', 'aria-label': 'Choose a date', title: 'Choose a date',
        onclick: () => { picker.value = isoDate(shown.value) || ''; if (picker.showPicker) picker.showPicker(); },
      }, '📅');
      node = h('span', { class: 'date-field' }, shown, calendar, picker);
      control.node = shown;
      break;
    }
    case 'timepicker':
      node = h('input', { type: 'time', class: `field${inInput ? '' : ' inline'}`, value: element.initial_time || '', dataset: meta, onchange: (e) => send(e.target.value || null) });
      break;
    case 'datetimepicker': {
      const initial = element.initial_date_time ? new Date(element.initial_date_time * 1000).toISOString().slice(0, 16) : '';
      node = h('input', { type: 'datetime-local', class: 'field', value: initial, dataset: meta, onchange: (e) => send(e.target.value ? Math.floor(new Date(e.target.value).getTime() / 1000) : null) });
      break;
    }
    case 'plain_text_input': case 'email_text_input': case 'url_text_input': case 'number_input': {
      const type = { email_text_input: 'email', url_text_input: 'url', number_input: 'number' }[element.type] || 'text';
      const attrs = { class: 'field', dataset: meta, placeholder: plain(element.placeholder) || null, maxlength: element.max_length || null };
      if (element.multiline) {
        node = h('textarea', attrs, element.initial_value || '');
      } else {
        node = h('input', { ...attrs, type, value: element.initial_value || '' });
      }
      if (live) node.addEventListener('change', (e) => send(e.target.value));
      break;
    }
    case 'image':
      node = imagePlaceholder(element);
      break;
    default:
      node = h('span', { class: 'bk-unsupported' }, `[${element.type}]`);
  }
  control.node = control.node || node;
  return node;
}

/** '2026-11-30' -> '30/11/2026' (British), and back; anything unreadable -> '' or null. */
function britishDate(iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '');
  return match ? `${match[3]}/${match[2]}/${match[1]}` : '';
}

function isoDate(typed) {
  const match = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(typed || '');
  if (!match) return null;
  const [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date.toISOString().slice(0, 10);
}

function groupedOptions(element, list, isSelected) {
  const make = (o) => h('option', { value: o.value, selected: isSelected(o) }, plain(o.text));
  if (element.option_groups && element.type === 'static_select') {
    return element.option_groups.map((group) => h('optgroup', { label: plain(group.label) }, (group.options || []).map(make)));
  }
  return list.map(make);
}

function renderInput(block, ctx) {
  const error = S.modalErrors && S.modalErrors[block.block_id];
  return h('div', { class: `bk-input${error ? ' invalid' : ''}`, dataset: { block: block.block_id, input: '1', optional: block.optional ? '1' : '' } },
    h('label', { class: 'bk-label' }, plain(block.label), block.optional ? h('span', { class: 'bk-optional' }, ' (optional)') : null),
    renderElement(block.element, block, ctx, true),
    block.hint ? h('div', { class: 'bk-hint' }, plain(block.hint)) : null,
    error ? h('div', { class: 'bk-error', role: 'alert' }, error) : null);
}

/** block_id -> action_id -> value, as the sandbox's submit_view takes it. */
function collectInputs(root) {
  const values = {};
  for (const field of root.querySelectorAll('[data-input="1"] [data-action]')) {
    const { block, action, type } = field.dataset;
    let value;
    if (field.matches('select')) value = field.value || null;
    else if (field.classList.contains('choices')) {
      const checked = [...field.querySelectorAll('input:checked')].map((i) => i.value);
      value = type === 'radio_buttons' ? (checked[0] || null) : checked;
    } else if (type === 'datetimepicker') value = field.value ? Math.floor(new Date(field.value).getTime() / 1000) : null;
    else if (type === 'datepicker') value = isoDate(field.value);
    else value = field.value === '' ? null : field.value;
    (values[block] = values[block] || {})[action] = value;
  }
  return values;
}

function missingRequired(root) {
  const errors = {};
  for (const wrapper of root.querySelectorAll('[data-input="1"]')) {
    const field = wrapper.querySelector('[data-action]');
    if (!field) continue;
    // Like Slack's client: only a truly empty field is stopped here; anything else goes to
    // the app, which may answer with response_action: errors.
    if (field.dataset.type === 'datepicker' && field.value.trim() && !isoDate(field.value)) {
      errors[wrapper.dataset.block] = 'Please give a date as dd/mm/yyyy, for example 30/11/2026.';
      continue;
    }
    if (wrapper.dataset.optional) continue;
    const empty = field.classList.contains('choices') ? !field.querySelector('input:checked') : !String(field.value || '');
    if (empty) errors[wrapper.dataset.block] = 'Please complete this required field.';
  }
  return Object.keys(errors).length ? errors : null;
}

// ---- dialogs ------------------------------------------------------------------------------

function confirmDialog(confirm) {
  return new Promise((resolve) => {
    const overlay = $('#confirm');
    const done = (answer) => { overlay.hidden = true; overlay.replaceChildren(); resolve(answer); };
    const style = confirm.style === 'danger' ? 'btn-danger' : 'btn-primary';
    overlay.replaceChildren(h('div', { class: 'dialog', role: 'alertdialog', 'aria-modal': 'true' },
      h('div', { class: 'dialog-head' }, h('h2', {}, plain(confirm.title) || 'Are you sure?')),
      h('div', { class: 'dialog-body' }, textObject(confirm.text, 'div')),
      h('div', { class: 'dialog-foot' },
        h('button', { type: 'button', class: 'btn', onclick: () => done(false) }, plain(confirm.deny) || 'Cancel'),
        h('button', { type: 'button', class: `btn ${style}`, onclick: () => done(true) }, plain(confirm.confirm) || 'Yes'))));
    overlay.hidden = false;
  });
}

function renderModal() {
  const overlay = $('#modal');
  const view = S.screen && S.screen.modal;
  if (!view) {
    overlay.hidden = true;
    overlay.replaceChildren();
    S.drawn.modal = null;
    S.modalErrors = null;
    return;
  }
  const key = `${view.id}:${view.hash}:${JSON.stringify(S.modalErrors)}`;
  if (S.drawn.modal === key) return;
  const keep = S.drawn.modal && S.drawn.modal.startsWith(`${view.id}:${view.hash}:`) ? collectInputs(overlay) : null;
  S.drawn.modal = key;
  const ctx = { surface: 'modal', viewId: view.id };
  const body = h('div', { class: 'dialog-body' }, renderBlocks(view.blocks, ctx));
  const problem = h('div', { class: 'composer-error dialog-error', role: 'alert', hidden: true });
  const submit = view.submit ? h('button', { type: 'submit', class: 'btn btn-primary' }, plain(view.submit)) : null;
  const form = h('form', { class: 'dialog', role: 'dialog', 'aria-modal': 'true', 'aria-label': plain(view.title), novalidate: true },
    h('div', { class: 'dialog-head' }, h('h2', {}, plain(view.title)),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close', onclick: () => closeModal(view) }, '×')),
    body, problem,
    h('div', { class: 'dialog-foot' },
      h('button', { type: 'button', class: 'btn', onclick: () => closeModal(view) }, plain(view.close) || 'Cancel'),
      submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const missing = missingRequired(form);
    if (missing) { S.modalErrors = missing; renderModal(); return; }
    problem.hidden = true;
    try {
      const result = await busy(submit, () => api('/ui/submit', { user: S.me, view_id: view.id, values: collectInputs(form) }));
      S.modalErrors = result.errors || null;
      S.screen.modal = result.modal;
      renderModal();
      scheduleRefresh();
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
    }
  });
  overlay.replaceChildren(form);
  overlay.hidden = false;
  if (keep) restoreInputs(form, keep);
  const first = form.querySelector('textarea, input, select');
  if (first) first.focus();
}

function restoreInputs(root, values) {
  for (const field of root.querySelectorAll('[data-input="1"] [data-action]')) {
    const value = (values[field.dataset.block] || {})[field.dataset.action];
    if (value === undefined || value === null) continue;
    if (field.classList.contains('choices')) {
      const wanted = new Set([].concat(value));
      for (const input of field.querySelectorAll('input')) input.checked = wanted.has(input.value);
    } else if (field.dataset.type === 'datepicker') field.value = britishDate(value);
    else if (field.dataset.type !== 'datetimepicker') field.value = value;
  }
}

async function closeModal(view) {
  try {
    await api('/ui/close', { user: S.me, view_id: view.id });
  } catch (error) {
    toast(error.message, 'error');
  }
  S.modalErrors = null;
  refresh();
}

function listOf(names) {
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names.join('');
}

function renderWelcome() {
  const overlay = $('#welcome');
  const admins = S.boot.leaders.filter((l) => l.admin);
  overlay.replaceChildren(h('div', { class: 'dialog welcome', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Choose who you are' },
    h('div', { class: 'dialog-head' }, h('h2', {}, 'Welcome to the Tandem sandbox')),
    h('div', { class: 'dialog-body' },
      h('p', {}, 'This is a small workspace of leaders from across a health and care system, with Tandem installed. Choose who you are; you can switch at any time from the top bar.'),
      admins.length ? h('p', { class: 'welcome-admin' }, `Sign in as ${listOf(admins.map((l) => l.name))}, ${admins.length > 1 ? 'workspace admins' : 'a workspace admin'}, to try team digests.`) : null,
      h('div', { class: 'people' }, S.boot.leaders.map((leader) => h('button', {
        type: 'button', class: 'person', dataset: { user: leader.id },
        onclick: () => { overlay.hidden = true; choose(leader.id); },
      }, avatar({ ...leader, is_bot: false }), h('span', {}, h('strong', {}, leader.name), h('small', {}, leader.title), h('small', {}, leader.tz),
        leader.admin ? h('small', { class: 'person-admin' }, 'Workspace admin') : null)))))));
  overlay.hidden = false;
}

// ---- panes --------------------------------------------------------------------------------

function isAppView() {
  return S.screen && S.screen.channel.kind === 'im';
}

function renderSidebar() {
  const nav = $('#nav');
  const sections = { '1-channels': 'Channels', '2-apps': 'Apps', '3-direct': 'Direct messages' };
  const groups = {};
  for (const c of S.screen.conversations) (groups[c.section] = groups[c.section] || []).push(c);
  const current = S.screen.channel.id;
  const key = JSON.stringify([groups, current, S.seen]);
  if (S.drawn.sidebar === key) return;
  S.drawn.sidebar = key;
  nav.replaceChildren(...Object.entries(sections).filter(([id]) => groups[id]).map(([id, title]) => h('div', { class: 'nav-section' },
    h('div', { class: 'nav-heading' }, title),
    groups[id].map((c) => {
      const unread = c.id !== current && c.latest_ts && (!S.seen[c.id] || c.latest_ts > S.seen[c.id]);
      const icon = c.kind === 'im' ? h('img', { src: '/static/tandem.svg', alt: '', width: 18, height: 18 })
        : h('span', { class: 'hash', 'aria-hidden': 'true' }, c.kind === 'mpim' ? '◎' : '#');
      return h('button', {
        type: 'button', class: `nav-item${c.id === current ? ' active' : ''}${unread ? ' unread' : ''}`,
        dataset: { channel: c.id }, 'aria-current': c.id === current ? 'page' : null,
        onclick: () => openChannel(c.id),
      }, icon, h('span', { class: 'label' }, c.label), unread ? h('span', { class: 'dot', 'aria-label': 'unread' }) : null);
    }))));
}

function renderHeader() {
  const c = S.screen.channel;
  const header = $('#pane-header');
  const key = JSON.stringify([c.id, c.label, c.topic, c.members]);
  if (S.drawn.header !== key) {
    S.drawn.header = key;
    if (c.kind === 'im') {
      header.replaceChildren(h('div', { class: 'pane-heading' },
        h('img', { src: '/static/tandem.svg', alt: '', width: 26, height: 26 }),
        h('span', { class: 'pane-title' }, S.boot.bot.name), h('span', { class: 'badge' }, 'APP'),
        h('span', { class: 'pane-sub' }, 'Guidance, check-ins and a private journal')));
    } else {
      header.replaceChildren(h('div', { class: 'pane-heading' },
        h('span', { class: 'pane-title' }, c.kind === 'mpim' ? c.label : `# ${c.label}`),
        c.topic ? h('span', { class: 'pane-sub', title: c.topic }, c.topic) : null),
        h('span', { class: 'pane-meta' }, `${c.members} members${c.bot_member ? ' · Tandem is here' : ''}`));
    }
  }
  const app = isAppView();
  $('#app-tabs').hidden = !app;
  const onHome = app && S.tab === 'home';
  $('#tab-home').setAttribute('aria-selected', String(onHome));
  $('#tab-messages').setAttribute('aria-selected', String(!onHome));
  $('#messages').hidden = onHome;
  $('#composer').hidden = onHome;
  $('#home').hidden = !onHome;
  const text = $('#composer-text');
  text.placeholder = c.kind === 'im' ? `Message ${S.boot.bot.name}` : c.kind === 'mpim' ? 'Message the group' : `Message #${c.label}`;
}

function renderMessageList(container, messages, options) {
  const key = JSON.stringify([messages, options.thread || null, S.me]);
  if (S.drawn[container.id] === key) return;
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 60;
  const switched = S.drawn[`${container.id}:where`] !== options.where;
  S.drawn[container.id] = key;
  S.drawn[`${container.id}:where`] = options.where;
  const nodes = [];
  let lastDay = null;
  let last = null;
  for (const message of messages) {
    if (!options.thread && message.day !== lastDay) {
      nodes.push(h('div', { class: 'day' }, message.day));
      lastDay = message.day;
      last = null;
    }
    const compact = last && last.author.id === message.author.id && !message.ephemeral && !last.ephemeral
      && Number(message.ts) - Number(last.ts) < 300 && !last.reply_count;
    nodes.push(renderMessage(message, { ...options, compact }));
    last = message;
  }
  if (!messages.length && options.empty) nodes.push(options.empty());
  container.replaceChildren(...nodes);
  if (atBottom || switched) container.scrollTop = container.scrollHeight;
}

function renderMessage(message, options) {
  const author = message.author;
  const body = h('div', { class: 'msg-body' });
  if (message.ephemeral) {
    body.append(h('div', { class: 'only-you' },
      h('span', { html: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M10 4.5c-4.2 0-7.2 3.6-8 5.5.8 1.9 3.8 5.5 8 5.5s7.2-3.6 8-5.5c-.8-1.9-3.8-5.5-8-5.5Zm0 9a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7Z" fill="currentColor"/></svg>' }),
      'Only visible to you'));
  }
  if (!options.compact || message.ephemeral) {
    body.append(h('div', { class: 'msg-head' },
      h('span', { class: 'msg-name' }, author.name),
      author.is_bot && author.name !== 'Slackbot' ? h('span', { class: 'badge' }, 'APP') : null,
      author.title && !author.is_bot && !options.thread ? h('span', { class: 'msg-title' }, author.title) : null,
      h('span', { class: 'msg-time', title: message.day }, message.time)));
  }
  const ctx = { surface: 'message', message };
  if (message.blocks && message.blocks.length && !(message.blocks.length === 1 && message.blocks[0].type === 'rich_text' && message.text)) {
    body.append(renderBlocks(message.blocks, ctx));
  } else if (message.text) {
    body.append(h('div', { class: 'msg-text mk', html: mrkdwn(message.text) }));
  }
  if (message.edited && !author.is_bot) body.append(h('span', { class: 'msg-edited' }, '(edited)'));
  for (const attachment of message.attachments || []) {
    body.append(h('div', { class: 'msg-text mk', style: `border-left:3px solid #${String(attachment.color || 'cfd6da').replace('#', '')};padding-left:10px;margin-top:4px`, html: mrkdwn(attachment.text || attachment.fallback || '') }));
  }
  for (const file of message.files || []) {
    body.append(h('a', { class: 'file', href: file.download, download: file.name },
      h('span', { html: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 2h8l5 5v13a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2Zm7 1.5V8h4.5L13 3.5ZM12 11v5.2l-2.1-2.1-1.1 1.1 4 4 4-4-1.1-1.1-2.1 2.1V11h-1.6Z" fill="currentColor"/></svg>' }),
      h('span', {}, h('span', { class: 'file-name' }, file.title || file.name), h('span', { class: 'file-meta' }, `${formatSize(file.size)} · Download`))));
  }
  if (message.reactions && message.reactions.length) {
    body.append(h('div', { class: 'reactions' }, message.reactions.map((r) => h('span', { class: 'reaction' }, `${EMOJI[r.name] || `:${r.name}:`} ${r.count}`))));
  }
  if (!options.thread && message.reply_count) {
    const faces = (message.reply_users || []).slice(0, 3).map((id) => avatarFor(id, 'avatar-sm'));
    body.append(h('button', { type: 'button', class: 'replies', onclick: () => openThread(message.thread_ts || message.ts) },
      h('span', { class: 'faces' }, faces),
      h('strong', {}, `${message.reply_count} ${message.reply_count === 1 ? 'reply' : 'replies'}`),
      h('span', { class: 'last' }, 'View thread')));
  }
  const mentionsMe = (message.text || '').includes(`<@${S.me}>`);
  const row = h('div', {
    class: `msg${options.compact && !message.ephemeral ? ' compact' : ''}${message.ephemeral ? ' ephemeral' : ''}${mentionsMe ? ' highlight' : ''}`,
    dataset: { ts: message.ts },
  }, avatar(author), body);
  if (!options.thread && !message.ephemeral) {
    row.append(h('div', { class: 'msg-actions' }, h('button', { type: 'button', onclick: () => openThread(message.thread_ts || message.ts) }, 'Reply in thread')));
  }
  return row;
}

function avatarFor(id, size) {
  if (id === S.boot.bot.id) return avatar({ is_bot: true, name: S.boot.bot.name }, size);
  const leader = S.boot.leaders.find((l) => l.id === id);
  return avatar({ is_bot: false, initials: leader ? leader.initials : '?', colour: leader ? leader.colour : '#888' }, size);
}

function formatSize(bytes) {
  if (!bytes) return 'empty';
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function emptyConversation() {
  const c = S.screen.channel;
  if (c.kind !== 'im') return h('div', { class: 'empty' }, h('h2', {}, `This is the start of #${c.label}`));
  return h('div', { class: 'empty' },
    h('img', { src: '/static/tandem.svg', alt: '', width: 48, height: 48 }),
    h('h2', {}, `Ask ${S.boot.bot.name} about leading collaboratively`),
    h('p', {}, 'Answers come from a curated library, with their sources. Try one of these:'),
    h('div', { class: 'chips' }, S.boot.suggestions.map((q) => h('button', {
      type: 'button', class: 'chip', onclick: () => { const t = $('#composer-text'); t.value = q; grow(t); t.focus(); },
    }, q))));
}

function renderHome() {
  const pane = $('#home');
  const view = S.screen.home;
  const key = view ? `${view.id}:${view.hash}` : 'waiting';
  if (S.drawn.home === key) return;
  S.drawn.home = key;
  if (!view) {
    pane.replaceChildren(h('div', { class: 'home-card home-waiting' }, `Opening ${S.boot.bot.name}'s Home…`));
    return;
  }
  pane.replaceChildren(h('div', { class: 'home-card' }, renderBlocks(view.blocks, { surface: 'home', viewId: view.id })));
}

function renderThread() {
  const aside = $('#thread');
  const thread = S.screen.thread;
  $('#layout').classList.toggle('with-thread', Boolean(thread));
  aside.hidden = !thread;
  if (!thread) return;
  const c = S.screen.channel;
  $('#thread-where').textContent = c.kind === 'im' ? `with ${S.boot.bot.name}` : `#${c.label}`;
  renderMessageList($('#thread-messages'), thread.messages, { thread: thread.ts, where: `${c.id}:${thread.ts}` });
}

function renderClock(clock) {
  $('#clock-time').textContent = clock.label;
  $('#clock-time').setAttribute('datetime', clock.iso);
  $('#clock-time').title = clock.zone;
  $('#clock-ahead').textContent = clock.ahead === 'real time' ? `${clock.zone}` : `${clock.zone} · ${clock.ahead}`;
}

function render() {
  const screen = S.screen;
  renderClock(screen.clock);
  if (S.firstVisit) {
    for (const c of screen.conversations) S.seen[c.id] = c.latest_ts;
    S.firstVisit = false;
  }
  S.seen[screen.channel.id] = screen.channel.latest_ts || S.seen[screen.channel.id];
  saveSeen();
  renderSidebar();
  renderHeader();
  if (isAppView() && S.tab === 'home') renderHome();
  else renderMessageList($('#messages'), screen.channel.messages, { where: screen.channel.id, empty: emptyConversation });
  renderThread();
  renderModal();
}

// ---- navigation ---------------------------------------------------------------------------

function choose(userId) {
  S.me = userId;
  S.channel = null;
  S.thread = null;
  S.tab = 'messages';
  S.drawn = {};
  S.modalErrors = null;
  localStorage.setItem('tandem-sandbox-me', userId);
  const stored = JSON.parse(localStorage.getItem(`tandem-sandbox-seen-${userId}`) || 'null');
  S.seen = stored || {};
  S.firstVisit = !stored;  // on a first visit nothing counts as new
  $('#who').value = userId;
  const leader = me();
  const badge = $('#who-avatar');
  badge.textContent = leader.initials;
  badge.style.background = leader.colour;
  refresh();
}

function saveSeen() {
  if (S.me && S.seen) localStorage.setItem(`tandem-sandbox-seen-${S.me}`, JSON.stringify(S.seen));
}

function openChannel(id) {
  if (id !== S.channel) { S.thread = null; }
  S.channel = id;
  const target = S.screen.conversations.find((c) => c.id === id);
  if (target && target.kind === 'im') S.tab = 'messages';
  hideComposerError($('#composer'));
  refresh();
}

function openThread(ts) {
  S.thread = ts;
  refresh().then(() => $('#thread textarea').focus());
}

async function openHome() {
  S.tab = 'home';
  S.drawn.home = null;
  if (S.screen) { S.screen.home = S.screen.home || null; render(); }
  try {
    await api('/ui/home', { user: S.me });
  } catch (error) {
    toast(error.message, 'error');
  }
  refresh();
}

async function refresh() {
  if (!S.me) return;
  if (S.refreshing) { S.again = true; return; }
  S.refreshing = true;
  try {
    const query = new URLSearchParams({ user: S.me, channel: S.channel || '', thread: S.thread || '' });
    const screen = await api(`/ui/screen?${query}`);
    if (screen.me.id !== S.me) return;
    S.screen = screen;
    S.channel = screen.channel.id;
    if (S.thread && !screen.thread) S.thread = null;
    render();
  } catch (error) {
    toast(error.message, 'error');
  } finally {
    S.refreshing = false;
    if (S.again) { S.again = false; refresh(); }
  }
}

let refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 60);
}

// ---- composing ----------------------------------------------------------------------------

function grow(textarea) {
  textarea.style.height = 'auto';
  textarea.style.height = `${Math.min(textarea.scrollHeight, 220)}px`;
  if (textarea.id === 'composer-text') {
    const count = $('#composer-count');
    const limit = S.boot.max_message_chars;
    const length = textarea.value.length;
    count.hidden = length < limit * 0.9;
    count.textContent = `${length.toLocaleString('en-GB')} / ${limit.toLocaleString('en-GB')}`;
    count.classList.toggle('over', length > limit);
  }
}

function showComposerError(form, message, notice = false) {
  const box = form.querySelector('.composer-error');
  box.textContent = message;
  box.classList.toggle('notice', notice);
  box.hidden = false;
}

function hideComposerError(form) {
  const box = form.querySelector('.composer-error');
  if (box) box.hidden = true;
}

async function sendFrom(form, threadTs) {
  const textarea = form.querySelector('textarea');
  const text = textarea.value;
  closeSuggest(form);
  if (!text.trim()) { textarea.value = ''; grow(textarea); return; }  // nothing to send
  hideComposerError(form);
  const button = form.querySelector('.send');
  try {
    const result = await busy(button, () => api('/ui/post', { user: S.me, channel: S.channel, text, thread_ts: threadTs || null }));
    textarea.value = '';
    grow(textarea);
    if (result.notice) showComposerError(form, result.notice, true);
    if (result.opens_thread) S.thread = result.opens_thread;
    await refresh();
    const list = threadTs ? $('#thread-messages') : $('#messages');
    list.scrollTop = list.scrollHeight;
  } catch (error) {
    showComposerError(form, error.message);
  }
}

function suggestionsFor(text, caret) {
  const before = text.slice(0, caret);
  if (/^\/\S*( \S*)?$/.test(before)) {  // a command, and perhaps the start of a subcommand
    const typed = before.toLowerCase();
    return { from: 0, items: S.boot.subcommands.filter((i) => i.insert.startsWith(typed)) };
  }
  const at = before.match(/(^|\s)@(\w*)$/);
  if (at) {
    const prefix = at[2].toLowerCase();
    const people = [{ name: S.boot.bot.name, about: 'the app', handle: S.boot.bot.name }]
      .concat(S.boot.leaders.filter((l) => l.id !== S.me).map((l) => ({ name: l.name, about: l.title, handle: l.first_name })));
    const items = people.filter((p) => p.name.toLowerCase().startsWith(prefix) || p.handle.toLowerCase().startsWith(prefix))
      .map((p) => ({ insert: `@${p.handle} `, label: `@${p.name}`, about: p.about }));
    return { from: before.length - at[2].length - 1, items };
  }
  return { from: 0, items: [] };
}

function updateSuggest(form) {
  const textarea = form.querySelector('textarea');
  const box = form.querySelector('.suggest');
  const { from, items } = suggestionsFor(textarea.value, textarea.selectionStart);
  if (!items.length) { closeSuggest(form); return; }
  form.dataset.suggestActive = form.dataset.suggestActive || '0';
  const active = Math.min(Number(form.dataset.suggestActive), items.length - 1);
  box.replaceChildren(...items.map((item, index) => h('button', {
    type: 'button', class: index === active ? 'active' : '',
    onmousedown: (e) => { e.preventDefault(); applySuggestion(form, from, item); },
  }, h('strong', {}, item.label), h('small', {}, item.about))));
  box._items = { from, items };
  box.hidden = false;
}

function applySuggestion(form, from, item) {
  const textarea = form.querySelector('textarea');
  const caret = textarea.selectionStart;
  textarea.value = textarea.value.slice(0, from) + item.insert + textarea.value.slice(caret);
  const at = from + item.insert.length;
  textarea.setSelectionRange(at, at);
  closeSuggest(form);
  grow(textarea);
  textarea.focus();
}

function closeSuggest(form) {
  const box = form.querySelector('.suggest');
  if (box) { box.hidden = true; box._items = null; }
  delete form.dataset.suggestActive;
}

function wireComposer(form, threadTs) {
  const textarea = form.querySelector('textarea');
  form.addEventListener('submit', (event) => { event.preventDefault(); sendFrom(form, threadTs()); });
  textarea.addEventListener('input', () => { grow(textarea); updateSuggest(form); });
  textarea.addEventListener('blur', () => setTimeout(() => closeSuggest(form), 150));
  textarea.addEventListener('keydown', (event) => {
    const box = form.querySelector('.suggest');
    if (box && !box.hidden && box._items) {
      const count = box._items.items.length;
      const active = Number(form.dataset.suggestActive || 0);
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        form.dataset.suggestActive = String((active + (event.key === 'ArrowDown' ? 1 : count - 1)) % count);
        updateSuggest(form);
        return;
      }
      const chosen = box._items.items[Math.min(active, count - 1)];
      const changes = textarea.value.trim() !== chosen.insert.trim();
      if (event.key === 'Tab' || (event.key === 'Enter' && !event.shiftKey && changes)) {
        event.preventDefault();
        applySuggestion(form, box._items.from, chosen);
        return;
      }
      if (event.key === 'Escape') { closeSuggest(form); return; }
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

// ---- the clock ----------------------------------------------------------------------------

const SENT_WORDS = {
  invitations: ['invitation', 'invitations'], checkins: ['check-in', 'check-ins'],
  reminders: ['reminder', 'reminders'], peer_introductions: ['peer introduction', 'peer introductions'],
  peer_followups: ['peer follow-up', 'peer follow-ups'], peer_pause_offers: ['question about pausing peer introductions', 'questions about pausing peer introductions'],
  digests: ['digest', 'digests'], purged_entries: ['old journal entry removed', 'old journal entries removed'],
};

async function moveClock(button) {
  try {
    const result = await busy(button, () => api('/ui/clock', { user: S.me, step: button.dataset.step }));
    renderClock(result.clock);
    const sent = Object.entries(result.sent || {}).map(([kind, n]) => {
      const [one, many] = SENT_WORDS[kind] || [kind, kind];
      return `${n} ${n === 1 ? one : many}`;
    });
    toast(`It's now ${result.clock.label} (${result.clock.zone}). ${sent.length ? `Tandem sent ${sent.join(', ')}.` : 'Nothing was due.'}`);
    refresh();
  } catch (error) {
    toast(error.message, 'error');
  }
}

// ---- start --------------------------------------------------------------------------------

function connect() {
  const stream = new EventSource('/ui/events');
  stream.onmessage = () => { $('#connection').hidden = true; scheduleRefresh(); };
  stream.onerror = () => { $('#connection').hidden = false; };
  stream.onopen = () => { $('#connection').hidden = true; scheduleRefresh(); };
}

async function start() {
  try {
    S.boot = await api('/ui/bootstrap');
  } catch (error) {
    toast(error.message, 'error');
    setTimeout(start, 2000);
    return;
  }
  $('#workspace-name').textContent = S.boot.team;
  $('#workspace-sub').textContent = `${S.boot.leaders.length} leaders · ${S.boot.bot.name} installed`;
  const enrolled = S.boot.leaders.filter((l) => l.checkins).map((l) => l.first_name);
  if (enrolled.length) {
    $('#tip-checkins').textContent = `Fast-forward to Monday 09:00: check-ins arrive for ${listOf(enrolled)}.`;
  }
  const admins = S.boot.leaders.filter((l) => l.admin).map((l) => l.first_name);
  const digestTip = $('#tip-digests');
  digestTip.hidden = !admins.length;
  if (admins.length) {
    digestTip.replaceChildren(`As ${listOf(admins)} (a workspace admin), run `, h('code', {}, '/tandem digest setup'), ' in #leadership-circle, preview it, then press Next digest.');
  }
  const who = $('#who');
  who.replaceChildren(...S.boot.leaders.map((l) => h('option', { value: l.id, title: l.title }, l.name)));
  who.addEventListener('change', () => choose(who.value));
  for (const button of document.querySelectorAll('.clock button')) button.addEventListener('click', () => moveClock(button));
  $('#tab-home').addEventListener('click', openHome);
  $('#tab-messages').addEventListener('click', () => { S.tab = 'messages'; S.drawn.messages = null; render(); });
  $('#thread-close').addEventListener('click', () => { S.thread = null; refresh(); });
  wireComposer($('#composer'), () => null);
  wireComposer($('#thread-composer'), () => S.thread);
  document.addEventListener('click', (event) => {
    if (!event.target.closest('.menu-wrap')) for (const menu of document.querySelectorAll('.menu')) menu.hidden = true;
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && S.screen && S.screen.modal && $('#confirm').hidden) closeModal(S.screen.modal);
  });
  const wanted = new URLSearchParams(location.search).get('as') || localStorage.getItem('tandem-sandbox-me');
  if (wanted && S.boot.leaders.some((l) => l.id === wanted)) choose(wanted);
  else renderWelcome();
  connect();
}

start();
