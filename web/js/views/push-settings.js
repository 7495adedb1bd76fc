// push-settings.js - the "Notifications when duet is closed" part of
// settings (this browser on or off, the message text shown or not, the
// devices that get notifications, each removable) and the one-time offer.
import { h } from '../dom.js';
import { currentSubId, disablePush, enablePush, pushApi, pushSupported } from '../push.js';
import { confirmDialog, toast } from './dialogs.js';

function when(ms) {
  return ms ? new Date(ms).toLocaleDateString() : 'never';
}

export function pushSection() {
  const state = h('p', { class: 'muted small', id: 'set-push-state', role: 'status' });
  const toggle = h('button', { type: 'button', class: 'btn btn-ghost', id: 'set-push-toggle', 'aria-describedby': 'set-push-state' });
  const preview = h('input', { id: 'set-push-preview', type: 'checkbox', class: 'switch', role: 'switch' });
  const list = h('ul', { class: 'push-devices', id: 'set-push-devices', 'aria-label': 'Devices that get notifications' });

  const render = async () => {
    const mine = currentSubId();
    toggle.hidden = !pushSupported();
    toggle.textContent = mine ? 'Turn off here' : 'Turn on here';
    state.textContent = !pushSupported()
      ? 'This browser cannot get notifications while duet is closed.'
      : mine
        ? 'On: this browser is notified of new messages while duet is closed.'
        : 'Off in this browser.';
    try {
      const [{ subscriptions }, s] = await Promise.all([pushApi.devices(), pushApi.settings()]);
      preview.checked = !!s.push_preview;
      list.replaceChildren(
        ...subscriptions.map((d) =>
          h(
            'li',
            { class: 'push-device', 'data-id': d.id },
            h('span', null, `${d.device || 'A browser'}${d.id === mine ? ' (this one)' : ''}`),
            h('span', { class: 'muted small' }, ` since ${when(d.created_at)}, last notified ${when(d.last_success)} `),
            h(
              'button',
              {
                type: 'button',
                class: 'btn btn-ghost btn-small',
                'aria-label': `Remove ${d.device || 'this device'}`,
                onclick: async () => {
                  const ok = await confirmDialog({
                    title: 'Remove this device?',
                    text: 'It will get no more notifications.',
                    confirm: 'Remove',
                    danger: true,
                  });
                  if (!ok) return;
                  if (d.id === mine) await disablePush();
                  else await pushApi.remove(d.id).catch((e) => toast(e.message, { error: true }));
                  render();
                },
              },
              'Remove',
            ),
          ),
        ),
      );
      if (!subscriptions.length) list.append(h('li', { class: 'muted small' }, 'No device gets notifications.'));
    } catch (e) {
      if (e.code === 'push_unavailable') {
        state.textContent = 'This server does not send notifications.';
        toggle.hidden = true;
      }
    }
  };
  toggle.addEventListener('click', async () => {
    toggle.disabled = true;
    try {
      if (currentSubId()) await disablePush();
      else await enablePush();
    } catch (e) {
      toast(e.message, { error: true });
    }
    toggle.disabled = false;
    render();
  });
  preview.addEventListener('change', async () => {
    try {
      await pushApi.setPreview(preview.checked);
      toast(preview.checked ? 'Notifications show the message.' : 'Notifications show the sender only.');
    } catch (e) {
      toast(e.message, { error: true });
    }
  });
  render();
  return h(
    'section',
    { class: 'settings-section', 'aria-labelledby': 'set-h-push' },
    h('h3', { id: 'set-h-push' }, 'When duet is closed'),
    h('div', { class: 'settings-line' }, state, toggle),
    h(
      'div',
      { class: 'settings-line' },
      h(
        'label',
        { htmlFor: 'set-push-preview' },
        'Show the message text',
        h('span', { class: 'muted small block' }, 'Off: only who wrote.'),
      ),
      preview,
    ),
    list,
  );
}

// The one-time offer after the first message you send: a bar, not a
// dialog, so it never stands between the user and the conversation.
export function offerPush() {
  if (document.querySelector('.push-offer')) return;
  const bar = h(
    'div',
    { class: 'update-bar push-offer', role: 'region', 'aria-label': 'Notifications' },
    h('span', { class: 'update-text' }, 'Get notified of new messages while duet is closed?'),
  );
  const turnOn = h('button', { type: 'button', class: 'btn btn-primary update-btn' }, 'Turn on');
  const notNow = h('button', { type: 'button', class: 'btn btn-ghost update-btn' }, 'Not now');
  turnOn.addEventListener('click', async () => {
    bar.remove();
    try {
      await enablePush();
      toast('Notifications are on for this browser.');
    } catch (e) {
      toast(e.message, { error: true });
    }
  });
  notNow.addEventListener('click', () => bar.remove());
  bar.append(turnOn, notNow);
  document.body.append(bar);
}
