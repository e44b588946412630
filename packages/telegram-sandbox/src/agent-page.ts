// The agent page: the support supergroup as a tiny Telegram client. One self-contained
// document (inline CSS and JS under a nonce-based CSP), relative URLs so it works under
// any prefix, and every piece of chat text set with textContent, never parsed as HTML.

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#1b1f23;background:#e9eef3;height:100vh;height:100dvh;display:flex;flex-direction:column}
header{display:flex;flex-wrap:wrap;gap:4px 16px;align-items:center;padding:8px 16px;background:#2f5f86;color:#fff}
header h1{font-size:16px;margin:0;flex:1;min-width:140px}
header form{display:flex;flex-wrap:wrap;gap:4px 12px}
header label{font-size:12px;display:flex;gap:4px;align-items:center}
header input{width:110px;padding:2px 4px;border:0;border-radius:4px;font:inherit}
main{flex:1;display:flex;min-height:0}
nav{width:280px;flex:none;background:#fff;border-right:1px solid #d0d7de;overflow-y:auto}
nav ul{list-style:none;margin:0;padding:0}
nav button{display:grid;grid-template-columns:12px 1fr auto;gap:2px 8px;width:100%;padding:9px 12px;border:0;border-bottom:1px solid #eef1f4;background:none;text-align:left;cursor:pointer;font:inherit;color:inherit}
nav button:hover{background:#f3f6f9}
nav button[aria-current=true]{background:#2b6ea3;color:#fff}
nav .name{font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
nav .when{font-size:12px;color:#57606a}
nav .preview{grid-column:2;font-size:13px;color:#57606a;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
nav button[aria-current=true] .when,nav button[aria-current=true] .preview{color:#fff}
nav .unread{grid-column:3;min-width:20px;padding:0 6px;border-radius:10px;background:#2b6ea3;color:#fff;font-size:12px;text-align:center}
nav button[aria-current=true] .unread{background:#fff;color:#2b6ea3}
.badge{font-size:11px;padding:0 6px;border-radius:8px;background:#d9e2ea;color:#44515e;align-self:center}
nav .dot{width:10px;height:10px;border-radius:50%;margin-top:5px}
section{flex:1;display:flex;flex-direction:column;min-width:0}
#topic-bar{display:flex;align-items:center;gap:8px;padding:8px 16px;background:#fff;border-bottom:1px solid #d0d7de}
#topic-title{margin:0;font-size:15px;font-weight:600;flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
#back{display:none;border:0;background:none;font-size:20px;line-height:1;padding:2px 6px;cursor:pointer;color:#2b6ea3}
#pinned{display:flex;gap:8px;align-items:flex-start;padding:6px 16px;background:#f6f8fa;border-bottom:1px solid #d0d7de;font-size:13px}
#pinned b{color:#2b6ea3;flex:none}
#pinned-text{flex:1;min-width:0;white-space:pre-wrap;overflow-wrap:anywhere;display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2;overflow:hidden}
#pinned.open{max-height:60vh;overflow-y:auto}
#pinned.open #pinned-text{display:block;overflow:visible}
#pinned-more{flex:none;font-size:13px;align-self:flex-end}
.hint{margin:12px 16px 0;padding:10px 12px;background:#fff;border-left:4px solid #2b6ea3;border-radius:6px;font-size:13px;white-space:pre-wrap}
#messages{flex:1;overflow-y:auto;list-style:none;margin:0;padding:12px 16px;display:flex;flex-direction:column;gap:6px}
.msg{max-width:75%;padding:6px 10px;border-radius:10px;background:#fff;align-self:flex-start;box-shadow:0 1px 1px #0001}
.msg.own{background:#e2f7cb;align-self:flex-end}
.msg.service{align-self:center;background:#d5dde5;color:#24292f;font-size:12px;border-radius:12px;box-shadow:none}
.meta{font-size:12px;color:#57606a;display:flex;flex-wrap:wrap;gap:2px 8px;align-items:baseline}
.author{font-weight:600;color:#245a85}
.own .author{color:#2d6322}
.via{color:#57606a}
.bot-0 .author{color:#1f5f8b}.bot-1 .author{color:#8a3b12}.bot-2 .author{color:#5b3a8c}.bot-3 .author{color:#1d6b3a}.bot-4 .author{color:#8c1d4f}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
.photo{display:block;max-width:100%;height:auto;border-radius:6px;margin:4px 0}
.document{display:inline-block;margin:4px 0;color:#245a85}
.quote{font-size:12px;border-left:2px solid #2b6ea3;padding-left:6px;color:#444c56;margin-bottom:2px}
.keyboard{display:grid;gap:4px;margin-top:6px}
.reactions{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}
.reaction{font-size:13px;line-height:20px;padding:0 8px;border-radius:10px;background:#e3edf6;color:#245a85}
.own .reaction{background:#cdebb4;color:#2d6322}
.row{display:flex;gap:4px}
.row button{flex:1;padding:4px 6px;border:1px solid #2b6ea3;background:#fff;color:#245a85;border-radius:6px;cursor:pointer}
.link{border:0;background:none;color:#245a85;cursor:pointer;padding:0;font-size:12px;text-decoration:underline}
#replying{display:flex;gap:8px;align-items:center;padding:4px 16px;background:#fff;border-top:1px solid #d0d7de;font-size:12px;color:#444c56}
#replying span{flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
form#reply{display:flex;gap:8px;padding:8px 16px;background:#fff;border-top:1px solid #d0d7de}
form#reply textarea{flex:1;resize:none;height:44px;padding:6px;font:inherit;font-size:16px;border:1px solid #8c959f;border-radius:6px}
form#reply button{padding:0 18px;border:0;border-radius:6px;background:#2b6ea3;color:#fff;cursor:pointer;font:inherit}
#status{min-height:20px;padding:2px 16px;font-size:12px;color:#57606a}
#status.error{color:#b31d28}
[hidden]{display:none!important}
@media (max-height:500px){
  header{padding:4px 10px}
  #pinned{padding:3px 16px}
  #pinned-text{-webkit-line-clamp:1}
  #topic-bar{padding:4px 16px}
}
@media (max-width:640px),(max-height:500px){
  header{padding:6px 10px}
  header input{width:84px}
  nav{width:100%;border-right:0}
  body.in-topic nav{display:none}
  body:not(.in-topic) section{display:none}
  #back{display:block}
  .msg{max-width:88%}
  #messages,form#reply{padding-left:10px;padding-right:10px}
}
`;

const JS = `
'use strict';
const $ = (id) => document.getElementById(id);
const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};
const GENERAL = 1;
const DEFAULT_AGENT = { id: 7001, first_name: 'Alice', username: 'alice_agent' };
const HINT = 'Welcome! This is the support group as agents see it in Telegram.\\n' +
  'Each visitor conversation is a topic on the left: open it and write to answer the visitor.\\n' +
  'In a topic: /claim, /close, /note <text>, /help; reply to one of your messages with /delete to retract it.\\n' +
  'Your name, id and @username above are who you are here; open the widget demo (/demo) in another tab to be the visitor.';
let agent = loadAgent();
let selected = Number((/thread=(\\d+)/.exec(location.hash) || [])[1]) || GENERAL;
let supergroupId = null;
let topics = [];
let views = [];
let replyTo = null;
/** Whether the pinned bar shows the whole pinned text. */
let pinnedOpen = false;
let lastRendered = '';
const seen = loadSeen();

function loadAgent() {
  try {
    const saved = JSON.parse(localStorage.getItem('sandbox-agent') || 'null');
    if (saved && Number.isInteger(saved.id) && saved.first_name) return saved;
  } catch (error) {
    console.warn('ignoring the saved agent', error);
  }
  return { ...DEFAULT_AGENT };
}

function loadSeen() {
  try {
    return JSON.parse(localStorage.getItem('sandbox-seen') || '{}') || {};
  } catch (error) {
    console.warn('ignoring the saved read marks', error);
    return {};
  }
}

function saveAgent() {
  const form = $('agent');
  const id = Number(form.elements.id.value);
  const first_name = form.elements.first_name.value.trim();
  const username = form.elements.username.value.trim();
  if (!Number.isInteger(id) || id <= 0 || !first_name) return status('Agent needs a positive id and a name', true);
  agent = { id, first_name, ...(username ? { username } : {}) };
  localStorage.setItem('sandbox-agent', JSON.stringify(agent));
  status('Writing as ' + first_name);
  lastRendered = '';
  render();
}

function status(text, isError) {
  const node = $('status');
  node.textContent = text;
  node.className = isError ? 'error' : '';
}

function fileLabel(m) {
  if (!m) return '';
  return m.kind === 'photo' ? 'Photo' : m.name || 'File';
}

/** A photo inline (its size known up front), a document as a link with its name and size. */
function media(m) {
  const src = 'sandbox/files/' + encodeURIComponent(m.fileId);
  if (m.kind === 'photo') {
    const img = el('img', 'photo');
    img.src = src;
    img.alt = 'Photo';
    img.width = Math.min(m.width, 320);
    img.height = Math.round((img.width / m.width) * m.height);
    return img;
  }
  const link = el('a', 'document', '📄 ' + (m.name || 'file') + (m.size ? ' (' + Math.ceil(m.size / 1024) + ' KB)' : ''));
  link.href = src;
  link.download = m.name || 'file';
  return link;
}

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.description || response.statusText);
  return data;
}

function authorName(user) {
  if (!user) return '';
  return [user.first_name, user.last_name].filter(Boolean).join(' ') || user.username || String(user.id);
}

// Several bots post into the group (the main bot and its sender pool): each bot message
// names its bot, and each bot keeps one colour. In a topic the bot speaks for the visitor.
function botHandle(user) {
  return user && user.is_bot && user.username ? '@' + user.username : '';
}

function botClass(user) {
  return user && user.is_bot ? ' bot-' + (Math.abs(user.id) % 5) : '';
}

function isOwn(view) {
  return !view.fromBot && view.from && view.from.id === agent.id;
}

function who(view) {
  if (isOwn(view)) return 'You';
  if (!view.fromBot || view.threadId === null) return authorName(view.from);
  // In a topic the bot's pinned post is its header, its answers to agents are replies, and
  // the rest carries the visitor's words.
  if (view.pinned) return 'Topic header (bot)';
  return view.replyToMessageId ? authorName(view.from) : 'Visitor (via bot)';
}

function time(date) {
  return new Date(date * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function serviceText(view) {
  const m = view.message;
  const name = [authorName(view.from), botHandle(view.from)].filter(Boolean).join(' ');
  if (m.forum_topic_created) return name + ' created the topic “' + m.forum_topic_created.name + '”';
  if (m.forum_topic_edited) return name + ' renamed the topic to “' + (m.forum_topic_edited.name || '') + '”';
  if (m.forum_topic_closed) return name + ' closed the topic';
  if (m.forum_topic_reopened) return name + ' reopened the topic';
  return '';
}

function threadOf(view) {
  return view.threadId === null ? GENERAL : view.threadId;
}

function inThread(threadId) {
  return views.filter((view) => threadOf(view) === threadId);
}

function preview(view) {
  if (!view) return '';
  const text = view.service ? serviceText(view) : who(view) + ': ' + (view.text || view.caption || fileLabel(view.media));
  return text.replace(/\\s+/g, ' ');
}

function select(threadId) {
  selected = threadId;
  location.hash = 'thread=' + selected;
  replyTo = null;
  document.body.classList.toggle('in-topic', true);
  lastRendered = '';
  render();
  $('reply').elements.text.focus();
}

function renderTopics() {
  const list = $('topic-list');
  list.replaceChildren();
  const entries = topics.filter((topic) => !topic.deleted).map((topic) => {
    const own = inThread(topic.threadId);
    return { ...topic, last: own[own.length - 1], messages: own };
  });
  // Most recent activity first, as in Telegram; General stays on top.
  entries.sort((a, b) => (b.last ? b.last.date : 0) - (a.last ? a.last.date : 0));
  const general = inThread(GENERAL);
  entries.unshift({ threadId: GENERAL, name: 'General', closed: false, iconColor: 0x8e98a3, last: general[general.length - 1], messages: general });
  for (const topic of entries) {
    const item = el('li');
    const button = el('button');
    button.type = 'button';
    button.setAttribute('aria-current', String(topic.threadId === selected));
    const dot = el('span', 'dot');
    dot.style.background = '#' + topic.iconColor.toString(16).padStart(6, '0');
    const name = el('span', 'name', topic.name + (topic.closed ? ' (closed)' : ''));
    button.append(dot, name, el('span', 'when', topic.last ? time(topic.last.date) : ''));
    button.append(el('span', 'preview', preview(topic.last)));
    const mark = seen[topic.threadId] || 0;
    const unread = topic.threadId === selected ? 0 : topic.messages.filter((v) => v.messageId > mark && !isOwn(v) && !v.service).length;
    if (unread > 0) {
      const badge = el('span', 'unread', String(unread));
      badge.setAttribute('aria-label', unread + ' unread');
      button.append(badge);
    }
    button.addEventListener('click', () => select(topic.threadId));
    item.append(button);
    list.append(item);
  }
  const current = entries.find((topic) => topic.threadId === selected);
  if (!current) selected = GENERAL;
  $('topic-title').textContent = current ? current.name + (current.closed ? ' (closed)' : '') : 'General';
}

function renderMessages(list) {
  const box = $('messages');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren();
  const pinned = list.filter((view) => view.pinned && !view.service).pop();
  $('pinned').hidden = !pinned;
  $('pinned-text').textContent = pinned ? pinned.text || '' : '';
  fitPinned();
  $('hint').hidden = selected !== GENERAL;
  for (const view of list) {
    if (view.service) {
      box.append(el('li', 'msg service', serviceText(view)));
      continue;
    }
    const item = el('li', 'msg' + (isOwn(view) ? ' own' : '') + botClass(view.fromBot ? view.from : null));
    const meta = el('div', 'meta');
    meta.append(el('span', 'author', who(view)));
    if (view.fromBot && botHandle(view.from)) meta.append(el('span', 'via', botHandle(view.from)));
    meta.append(el('span', '', time(view.date)));
    if (view.editDate) meta.append(el('span', '', 'edited'));
    if (view.pinned) meta.append(el('span', 'badge', 'pinned'));
    const reply = el('button', 'link', 'Reply');
    reply.type = 'button';
    reply.addEventListener('click', () => startReply(view));
    meta.append(reply);
    if (isOwn(view)) {
      const edit = el('button', 'link', 'Edit');
      edit.type = 'button';
      edit.addEventListener('click', () => void editMessage(view));
      meta.append(edit);
    }
    item.append(meta);
    const replied = view.replyToMessageId && list.find((other) => other.messageId === view.replyToMessageId);
    if (replied) item.append(el('div', 'quote', who(replied) + ': ' + (replied.text || '')));
    if (view.media) item.append(media(view.media));
    item.append(el('div', 'text', view.text || view.caption || ''));
    if (view.reactions && view.reactions.length > 0) item.append(reactions(view));
    if (view.replyMarkup) item.append(keyboard(view));
    box.append(item);
  }
  if (atBottom) box.scrollTop = box.scrollHeight;
  const last = list[list.length - 1];
  if (last && (seen[selected] || 0) < last.messageId) {
    seen[selected] = last.messageId;
    localStorage.setItem('sandbox-seen', JSON.stringify(seen));
  }
}

// Under the message, as Telegram shows them: one pill per emoji, with a count past one.
function reactions(view) {
  const counts = new Map();
  for (const reaction of view.reactions) counts.set(reaction.emoji, (counts.get(reaction.emoji) || 0) + 1);
  const box = el('div', 'reactions');
  for (const [emoji, count] of counts) {
    const pill = el('span', 'reaction', count > 1 ? emoji + ' ' + count : emoji);
    pill.setAttribute('role', 'img');
    pill.setAttribute('aria-label', 'Reaction ' + emoji + (count > 1 ? ' from ' + count : ''));
    box.append(pill);
  }
  return box;
}

// The pinned bar shows the first lines of the pinned message, cut at a whole line; "Show all"
// (like Telegram's tap on the bar) opens the whole text, wrapped. The toggle is there only
// when something is cut, which depends on the width: measured again on every render and resize.
function fitPinned() {
  const bar = $('pinned');
  const text = $('pinned-text');
  const more = $('pinned-more');
  bar.classList.remove('open');
  const cut = !bar.hidden && text.scrollHeight > text.clientHeight + 1;
  const open = cut && pinnedOpen;
  bar.classList.toggle('open', open);
  more.hidden = !cut;
  more.textContent = open ? 'Show less' : 'Show all';
  more.setAttribute('aria-expanded', String(open));
}

function startReply(view) {
  replyTo = view;
  $('replying').hidden = false;
  $('replying-text').textContent = 'Replying to ' + who(view) + ': ' + (view.text || '');
  $('reply').elements.text.focus();
}

function stopReply() {
  replyTo = null;
  $('replying').hidden = true;
}

function keyboard(view) {
  const box = el('div', 'keyboard');
  for (const row of view.replyMarkup.inline_keyboard) {
    const line = el('div', 'row');
    for (const button of row) {
      const node = el('button', '', button.url ? button.text + ' ↗' : button.text);
      node.type = 'button';
      node.addEventListener('click', () => {
        if (button.callback_data !== undefined) void press(view, button.callback_data);
        else if (button.url) status('Link: ' + button.url);
      });
      line.append(node);
    }
    box.append(line);
  }
  return box;
}

async function press(view, data) {
  try {
    const { id } = await api('sandbox/callback', { chatId: view.chatId, messageId: view.messageId, data, from: agent });
    status('Pressed “' + data + '”, waiting for the bot…');
    for (let i = 0; i < 20; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const { answer } = await api('sandbox/callback/' + encodeURIComponent(id));
      if (answer) return status(answer.text ? 'Bot: ' + answer.text : 'The bot answered the button');
    }
    status('The bot did not answer the button (Telegram would keep the spinner)', true);
  } catch (error) {
    status(error.message, true);
  }
}

async function editMessage(view) {
  const text = prompt('Edit message', view.text || '');
  if (text === null || text === view.text) return;
  try {
    await api('sandbox/messages/edit', { chatId: view.chatId, messageId: view.messageId, text });
    await refresh();
  } catch (error) {
    status(error.message, true);
  }
}

async function send(event) {
  event.preventDefault();
  const box = $('reply').elements.text;
  const text = box.value;
  if (!text.trim() || supergroupId === null) return;
  try {
    await api('sandbox/messages', {
      chatId: supergroupId,
      text,
      from: agent,
      ...(selected === GENERAL ? {} : { messageThreadId: selected }),
      ...(replyTo ? { replyToMessageId: replyTo.messageId } : {}),
    });
    box.value = '';
    stopReply();
    status('');
    await refresh();
  } catch (error) {
    status(error.message, true);
  }
}

function render() {
  renderTopics();
  const list = inThread(selected);
  const key = JSON.stringify(list) + selected + agent.id;
  if (key !== lastRendered) {
    lastRendered = key;
    renderMessages(list);
  }
}

async function refresh() {
  const summary = await api('sandbox/state');
  supergroupId = summary.supergroupId;
  const group = summary.chats.find((chat) => chat.id === supergroupId);
  $('title').textContent = (group && group.title) || 'Support (sandbox)';
  topics = summary.topics.filter((topic) => topic.chatId === supergroupId);
  views = await api('sandbox/messages?chatId=' + supergroupId);
  render();
}

async function loop() {
  try {
    await refresh();
  } catch (error) {
    status('Cannot reach the sandbox: ' + error.message, true);
  }
  setTimeout(loop, 1000);
}

const form = $('agent');
form.elements.id.value = agent.id;
form.elements.first_name.value = agent.first_name;
form.elements.username.value = agent.username || '';
form.addEventListener('change', saveAgent);
form.addEventListener('submit', (event) => event.preventDefault());
$('hint').textContent = HINT;
$('back').addEventListener('click', () => document.body.classList.remove('in-topic'));
$('cancel-reply').addEventListener('click', stopReply);
$('pinned-more').addEventListener('click', () => {
  pinnedOpen = !pinnedOpen;
  fitPinned();
});
addEventListener('resize', fitPinned);
$('reply').addEventListener('submit', send);
$('reply').elements.text.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !matchMedia('(pointer: coarse)').matches) send(event);
});
if (location.hash) document.body.classList.add('in-topic');
void loop();
`;

export function agentPageHtml(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Telegram sandbox · Topicdesk</title>
<style nonce="${nonce}">${CSS}</style>
</head>
<body>
<header>
  <h1 id="title">Support (sandbox)</h1>
  <form id="agent" aria-label="Who you are">
    <label>agent id <input name="id" inputmode="numeric"></label>
    <label>name <input name="first_name"></label>
    <label>@ <input name="username"></label>
  </form>
</header>
<main>
  <nav aria-label="Topics"><ul id="topic-list"></ul></nav>
  <section aria-labelledby="topic-title">
    <div id="topic-bar">
      <button id="back" type="button" aria-label="Back to the topics">‹</button>
      <h2 id="topic-title">General</h2>
    </div>
    <div id="pinned" tabindex="0" aria-label="Pinned message" hidden><b>Pinned</b><span id="pinned-text"></span><button id="pinned-more" class="link" type="button" aria-controls="pinned-text" aria-expanded="false" hidden>Show all</button></div>
    <p id="hint" class="hint" hidden></p>
    <ol id="messages" aria-live="polite" aria-label="Messages"></ol>
    <div id="status" role="status"></div>
    <div id="replying" hidden><span id="replying-text"></span><button id="cancel-reply" class="link" type="button">Cancel</button></div>
    <form id="reply">
      <textarea name="text" placeholder="Write a message…" aria-label="Message"></textarea>
      <button type="submit">Send</button>
    </form>
  </section>
</main>
<script nonce="${nonce}">${JS}</script>
</body>
</html>
`;
}
