// people.js - friends: send a request by username, answer incoming ones,
// cancel outgoing ones, and the people you blocked.
import { api, errorText } from '../api.js';
import { avatar, h } from '../dom.js';
import { listTime } from '../format.js';
import { icon } from '../icons.js';
import { nameOf, on, state } from '../store.js';
import { refreshAll, refreshRequests } from '../sync.js';
import { openDialog, toast } from './dialogs.js';

function person(user, sub, ...actions) {
  return h(
    'li',
    { class: 'person', dataset: { username: user.username } },
    avatar(user),
    h('span', { class: 'person-body' }, h('span', { class: 'person-name' }, nameOf(user)), h('span', { class: 'person-sub' }, sub)),
    h('span', { class: 'person-actions' }, actions),
  );
}

export function openPeople({ onOpenChat } = {}) {
  refreshRequests();
  openDialog({
    title: 'Friends',
    className: 'dialog-people',
    build(body, close, onCleanup) {
      const add = addFriendForm();
      const lists = h('div', { class: 'people-lists' });
      body.append(add.form, lists);
      const sent = requestSender(add);
      const render = () => renderLists(lists, { body, input: add.input, close, onOpenChat });
      render();
      onCleanup(
        on('requests', () => {
          sent.onRequests();
          render();
        }),
      );
      onCleanup(on('friends', sent.onFriends));
    },
  });
}

function addFriendForm() {
  const input = h('input', {
    id: 'add-friend-input',
    type: 'text',
    autocomplete: 'off',
    spellcheck: false,
    autocapitalize: 'none',
    placeholder: 'username',
    'aria-describedby': 'add-friend-msg',
    autofocus: true,
  });
  const msg = h('p', { id: 'add-friend-msg', class: 'field-msg', role: 'status' });
  const addBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('userPlus', { size: 18 }), 'Send request');
  const form = h(
    'form',
    { class: 'add-friend', novalidate: true },
    h('label', { htmlFor: 'add-friend-input', class: 'field-label' }, 'Add a friend by username'),
    h('div', { class: 'add-row' }, h('span', { class: 'at', 'aria-hidden': 'true' }, '@'), input, addBtn),
    msg,
  );
  const say = (text, error = false) => {
    msg.replaceChildren(...[text].flat());
    msg.classList.toggle('error', error);
    msg.classList.toggle('ok', !error && !!text);
  };
  return { form, input, addBtn, say };
}

// Sends the form's request. "Request sent to X." holds only while the
// request is pending: any later change to it (accepted, declined,
// cancelled) replaces it.
function requestSender({ form, input, addBtn, say }) {
  let sentTo = null;
  let sentListed = false;
  const onFriends = (ev) => {
    if (!sentTo || ev.user?.id !== sentTo) return;
    sentTo = null;
    if (ev.reason === 'accepted') say(['You and ', h('bdi', null, nameOf(ev.user)), ' are now friends.']);
    else say('');
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const username = input.value.trim().replace(/^@/, '').toLowerCase();
    if (!username) {
      say('Enter a username.', true);
      input.focus();
      return;
    }
    addBtn.disabled = true;
    sentTo = null;
    try {
      const r = await api.sendRequest(username);
      input.value = '';
      if (r.status === 'friends') say(['You and ', h('bdi', null, nameOf(r.user)), ' are now friends.']);
      else {
        say(['Request sent to ', h('bdi', null, nameOf(r.user)), '.']);
        sentTo = r.user.id;
        sentListed = false;
      }
      await refreshAll();
    } catch (err) {
      say(errorText(err), true);
      input.focus();
    } finally {
      addBtn.disabled = false;
    }
  });
  return {
    onFriends,
    // Listed under "Sent", then gone (another tab cancelled it, say): the
    // text is stale.
    onRequests() {
      const listed = sentTo && state.requests.outgoing.some((r) => r.user.id === sentTo);
      if (listed) sentListed = true;
      else if (sentTo && sentListed) onFriends({ user: { id: sentTo }, reason: 'gone' });
    },
  };
}

async function act(fn, okText) {
  try {
    await fn();
    if (okText) toast(okText);
    await refreshAll();
  } catch (err) {
    toast(errorText(err), { error: true });
  }
}

function actionBtn(cls, label, onclick, ...content) {
  return h('button', { type: 'button', class: cls, 'aria-label': label, onclick }, ...content);
}

function section(id, title, content) {
  return h('section', { class: 'people-section', 'aria-labelledby': id }, title, content);
}

function incomingSection(incoming, { close, onOpenChat }) {
  const accept = (r) =>
    act(async () => {
      const res = await api.accept(r.user.username);
      // Straight into the new conversation.
      if (res.chat_id && onOpenChat) {
        await refreshAll();
        close();
        onOpenChat(res.chat_id);
      }
    }, ['You and ', h('bdi', null, nameOf(r.user)), ' are now friends.']);
  const row = (r) =>
    person(
      r.user,
      `@${r.user.username} · ${listTime(r.created_at)}`,
      actionBtn('btn btn-primary btn-small', `Accept ${nameOf(r.user)}`, () => accept(r), 'Accept'),
      actionBtn(
        'btn btn-ghost btn-small',
        `Decline ${nameOf(r.user)}`,
        () => act(() => api.decline(r.user.username), 'Request declined.'),
        'Decline',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'icon-btn small',
          'aria-label': `Block ${nameOf(r.user)}`,
          title: 'Block',
          onclick: () => act(() => api.block(r.user.username), [h('bdi', null, nameOf(r.user)), ' is blocked.']),
        },
        icon('block', { size: 18 }),
      ),
    );
  return section(
    'ppl-in',
    h('h3', { id: 'ppl-in' }, 'Requests', incoming.length ? h('span', { class: 'count' }, String(incoming.length)) : null),
    incoming.length
      ? h('ul', { class: 'people', 'aria-labelledby': 'ppl-in' }, incoming.map(row))
      : h('p', { class: 'muted people-empty' }, 'No requests right now.'),
  );
}

function outgoingSection(outgoing) {
  const row = (r) =>
    person(
      r.user,
      `@${r.user.username} · waiting`,
      actionBtn(
        'btn btn-ghost btn-small',
        `Cancel request to ${nameOf(r.user)}`,
        () => act(() => api.cancel(r.user.username), 'Request cancelled.'),
        'Cancel',
      ),
    );
  return section(
    'ppl-out',
    h('h3', { id: 'ppl-out' }, 'Sent'),
    h('ul', { class: 'people', 'aria-labelledby': 'ppl-out' }, outgoing.map(row)),
  );
}

function blockedSection(blocked) {
  const row = (u) =>
    person(
      u,
      `@${u.username}`,
      actionBtn(
        'btn btn-ghost btn-small',
        `Unblock ${nameOf(u)}`,
        () => act(() => api.unblock(u.username), [h('bdi', null, nameOf(u)), ' is unblocked.']),
        'Unblock',
      ),
    );
  return section(
    'ppl-blocked',
    h('h3', { id: 'ppl-blocked' }, 'Blocked'),
    h('ul', { class: 'people', 'aria-labelledby': 'ppl-blocked' }, blocked.map(row)),
  );
}

// The three lists; focus stays on the button it was on (found again by label).
function renderLists(lists, { body, input, close, onOpenChat }) {
  const { incoming, outgoing } = state.requests;
  const sections = [incomingSection(incoming, { close, onOpenChat })];
  if (outgoing.length) sections.push(outgoingSection(outgoing));
  if (state.blocked.length) sections.push(blockedSection(state.blocked));
  const focusedLabel = document.activeElement?.getAttribute?.('aria-label');
  lists.replaceChildren(...sections);
  if (focusedLabel && lists.contains(document.activeElement) === false) {
    const again = [...lists.querySelectorAll('button')].find((b) => b.getAttribute('aria-label') === focusedLabel);
    if (again) again.focus();
    else if (!body.contains(document.activeElement)) input.focus();
  }
}
