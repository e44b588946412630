// The agent page: the support supergroup as a tiny Telegram client. One self-contained
// document (inline CSS and JS under a nonce-based CSP), relative URLs so it works under
// any prefix, and every piece of chat text set with textContent, never parsed as HTML.

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#1b1f23;background:#e9eef3;height:100vh;display:flex;flex-direction:column}
header{display:flex;gap:16px;align-items:center;padding:8px 16px;background:#517da2;color:#fff}
header h1{font-size:16px;margin:0;flex:1}
header form{display:flex;gap:12px}
header label{font-size:12px;display:flex;gap:4px;align-items:center}
header input{width:110px;padding:2px 4px;border:0;border-radius:4px}
main{flex:1;display:flex;min-height:0}
nav{width:240px;background:#fff;border-right:1px solid #d0d7de;overflow-y:auto}
nav button{display:flex;width:100%;gap:6px;padding:10px 12px;border:0;border-bottom:1px solid #eef1f4;background:none;text-align:left;cursor:pointer;font:inherit}
nav button:hover{background:#f3f6f9}
nav button.selected{background:#419fd9;color:#fff}
nav .name{flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
nav .badge,.meta .badge{font-size:11px;padding:0 6px;border-radius:8px;background:#d9e2ea;color:#44515e;align-self:center}
nav .dot{width:10px;height:10px;border-radius:50%;margin-top:4px;flex:none}
section{flex:1;display:flex;flex-direction:column;min-width:0}
#topic-title{padding:10px 16px;background:#fff;border-bottom:1px solid #d0d7de;font-weight:600}
#messages{flex:1;overflow-y:auto;list-style:none;margin:0;padding:12px 16px;display:flex;flex-direction:column;gap:6px}
.msg{max-width:70%;padding:6px 10px;border-radius:10px;background:#fff;align-self:flex-start;box-shadow:0 1px 1px #0001}
.msg.bot{background:#effdde;align-self:flex-end}
.msg.service{align-self:center;background:#0000001a;color:#333;font-size:12px;border-radius:12px;box-shadow:none}
.meta{font-size:12px;color:#6a737d;display:flex;gap:8px}
.author{font-weight:600;color:#3a6d99}
.via{color:#4b5661}
.bot-0 .author{color:#1f5f8b}.bot-1 .author{color:#8a3b12}.bot-2 .author{color:#5b3a8c}.bot-3 .author{color:#1d6b3a}.bot-4 .author{color:#8c1d4f}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
.quote{font-size:12px;border-left:2px solid #419fd9;padding-left:6px;color:#555;margin-bottom:2px}
.keyboard{display:grid;gap:4px;margin-top:6px}
.row{display:flex;gap:4px}
.row button{flex:1;padding:4px 6px;border:1px solid #419fd9;background:#fff;color:#2b6ea3;border-radius:6px;cursor:pointer}
.link{border:0;background:none;color:#2b6ea3;cursor:pointer;padding:0;font-size:12px}
form#reply{display:flex;gap:8px;padding:8px 16px;background:#fff;border-top:1px solid #d0d7de}
form#reply textarea{flex:1;resize:none;height:44px;padding:6px;font:inherit;border:1px solid #d0d7de;border-radius:6px}
form#reply button{padding:0 18px;border:0;border-radius:6px;background:#419fd9;color:#fff;cursor:pointer}
#status{min-height:20px;padding:2px 16px;font-size:12px;color:#6a737d}
#status.error{color:#b31d28}
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
let agent = loadAgent();
let selected = Number((/thread=(\\d+)/.exec(location.hash) || [])[1]) || GENERAL;
let supergroupId = null;
let topics = [];
let lastTopics = '';
let lastMessages = '';

function loadAgent() {
  try {
    const saved = JSON.parse(localStorage.getItem('sandbox-agent') || 'null');
    if (saved && Number.isInteger(saved.id) && saved.first_name) return saved;
  } catch (error) {
    console.warn('ignoring the saved agent', error);
  }
  return { ...DEFAULT_AGENT };
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
}

function status(text, isError) {
  const node = $('status');
  node.textContent = text;
  node.className = isError ? 'error' : '';
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
// names its bot, and each bot keeps one colour.
function botHandle(user) {
  return user && user.is_bot && user.username ? '@' + user.username : '';
}

function botClass(user) {
  return user && user.is_bot ? ' bot-' + (Math.abs(user.id) % 5) : '';
}

function time(date) {
  return new Date(date * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function serviceText(view) {
  const m = view.message;
  const who = [authorName(view.from), botHandle(view.from)].filter(Boolean).join(' ');
  if (m.forum_topic_created) return who + ' created the topic “' + m.forum_topic_created.name + '”';
  if (m.forum_topic_edited) return who + ' renamed the topic to “' + (m.forum_topic_edited.name || '') + '”';
  if (m.forum_topic_closed) return who + ' closed the topic';
  if (m.forum_topic_reopened) return who + ' reopened the topic';
  return '';
}

function renderTopics() {
  const nav = $('topics');
  nav.replaceChildren();
  const entries = [{ threadId: GENERAL, name: 'General', closed: false, iconColor: 0x8e98a3 }]
    .concat(topics.filter((topic) => !topic.deleted));
  for (const topic of entries) {
    const button = el('button', topic.threadId === selected ? 'selected' : '');
    const dot = el('span', 'dot');
    dot.style.background = '#' + topic.iconColor.toString(16).padStart(6, '0');
    button.append(dot, el('span', 'name', topic.name));
    if (topic.closed) button.append(el('span', 'badge', 'closed'));
    button.addEventListener('click', () => {
      selected = topic.threadId;
      location.hash = 'thread=' + selected;
      lastMessages = '';
      renderTopics();
      void refresh();
    });
    nav.append(button);
  }
  const current = entries.find((topic) => topic.threadId === selected);
  if (!current) selected = GENERAL;
  const title = current ? current.name + (current.closed ? ' (closed)' : '') : 'General';
  $('topic-title').textContent = title;
}

function renderMessages(views) {
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren();
  for (const view of views) {
    if (view.service) {
      list.append(el('li', 'msg service', serviceText(view)));
      continue;
    }
    const item = el('li', view.fromBot ? 'msg bot' + botClass(view.from) : 'msg');
    const meta = el('div', 'meta');
    meta.append(el('span', 'author', authorName(view.from)));
    if (botHandle(view.from)) meta.append(el('span', 'via', botHandle(view.from)));
    meta.append(el('span', '', time(view.date)));
    if (view.editDate) meta.append(el('span', '', 'edited'));
    if (view.pinned) meta.append(el('span', 'badge', 'pinned'));
    if (!view.fromBot) {
      const edit = el('button', 'link', 'edit');
      edit.addEventListener('click', () => void editMessage(view));
      meta.append(edit);
    }
    item.append(meta);
    const replied = view.replyToMessageId && views.find((other) => other.messageId === view.replyToMessageId);
    if (replied) item.append(el('div', 'quote', authorName(replied.from) + ': ' + (replied.text || '')));
    item.append(el('div', 'text', view.text || ''));
    if (view.replyMarkup) item.append(keyboard(view));
    list.append(item);
  }
  if (atBottom) list.scrollTop = list.scrollHeight;
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
    });
    box.value = '';
    status('');
    await refresh();
  } catch (error) {
    status(error.message, true);
  }
}

async function refresh() {
  const summary = await api('sandbox/state');
  supergroupId = summary.supergroupId;
  const group = summary.chats.find((chat) => chat.id === supergroupId);
  $('title').textContent = (group && group.title) || 'Support (sandbox)';
  topics = summary.topics.filter((topic) => topic.chatId === supergroupId);
  const topicsJson = JSON.stringify(topics) + selected;
  if (topicsJson !== lastTopics) {
    lastTopics = topicsJson;
    renderTopics();
  }
  const views = await api('sandbox/messages?chatId=' + supergroupId + '&threadId=' + selected);
  const messagesJson = JSON.stringify(views);
  if (messagesJson !== lastMessages) {
    lastMessages = messagesJson;
    renderMessages(views);
  }
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
$('reply').addEventListener('submit', send);
$('reply').elements.text.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) send(event);
});
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
  <form id="agent">
    <label>agent id <input name="id" inputmode="numeric"></label>
    <label>name <input name="first_name"></label>
    <label>@ <input name="username"></label>
  </form>
</header>
<main>
  <nav id="topics" aria-label="Topics"></nav>
  <section>
    <div id="topic-title">General</div>
    <ol id="messages" aria-live="polite"></ol>
    <div id="status"></div>
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
