// settings.js - profile, privacy (last seen, read receipts),
// notifications, password, and logging out.
import { api, errorText } from '../api.js';
import { h } from '../dom.js';
import { askPermission, permission } from '../notify.js';
import { setMe, state } from '../store.js';
import { refreshChats } from '../sync.js';
import { currentTheme, setTheme } from '../theme.js';
import { openDialog, toast } from './dialogs.js';
import { pushSection } from './push-settings.js';

export function openSettings({ onLogout }) {
  openDialog({
    title: 'Settings',
    className: 'dialog-settings',
    build(body) {
      const me = state.me;
      const profile = section('set-h-profile', 'Profile', profileForm(me));
      const privacy = section('set-h-privacy', 'Privacy', ...privacyLines(me));
      const look = section(
        'set-h-look',
        'Appearance',
        h('div', { class: 'settings-line' }, h('label', { htmlFor: 'set-theme' }, 'Theme'), themeSelect()),
      );
      const notif = section('set-h-notif', 'Notifications', notifLine());
      const password = passwordForm();
      body.append(
        profile,
        privacy,
        look,
        notif,
        pushSection(),
        section('set-h-pw', 'Password', password),
        h(
          'div',
          { class: 'dialog-actions spread' },
          h('span', { class: 'muted small' }, `Logged in as @${me.username}`),
          h('button', { type: 'button', class: 'btn btn-danger', onclick: onLogout }, 'Log out'),
        ),
      );
    },
  });
}

function section(id, title, ...content) {
  return h('section', { class: 'settings-section', 'aria-labelledby': id }, h('h3', { id }, title), ...content);
}

function profileForm(me) {
  const nameInput = h('input', {
    id: 'set-name',
    type: 'text',
    value: me.display_name,
    autocomplete: 'nickname',
    maxLength: 64,
    'aria-describedby': 'set-name-msg',
  });
  const nameMsg = h('p', { id: 'set-name-msg', class: 'field-msg', role: 'status' });
  const nameForm = h(
    'form',
    { class: 'settings-row' },
    h('label', { htmlFor: 'set-name', class: 'field-label' }, 'Display name'),
    h('div', { class: 'add-row' }, nameInput, h('button', { type: 'submit', class: 'btn btn-ghost' }, 'Save')),
    nameMsg,
    h('p', { class: 'muted small' }, `Your username is @${me.username}. Friends find you by it.`),
  );
  nameForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api.updateMe({ display_name: nameInput.value.trim() });
      setMe(r.user);
      nameMsg.textContent = 'Saved.';
      nameMsg.className = 'field-msg ok';
    } catch (err) {
      nameMsg.textContent = errorText(err);
      nameMsg.className = 'field-msg error';
      nameInput.focus();
    }
  });
  return nameForm;
}

async function saveSetting(fields, what) {
  try {
    const r = await api.updateMe(fields);
    setMe(r.user);
    toast(`${what} updated.`);
    refreshChats();
  } catch (err) {
    toast(errorText(err), { error: true });
  }
}

// Last seen and read receipts, each saved as it changes.
function privacyLines(me) {
  const lastSeen = h(
    'select',
    { id: 'set-lastseen' },
    h('option', { value: 'friends', selected: me.settings?.last_seen !== 'nobody' }, 'My friends'),
    h('option', { value: 'nobody', selected: me.settings?.last_seen === 'nobody' }, 'Nobody'),
  );
  const receipts = h('input', {
    id: 'set-receipts',
    type: 'checkbox',
    class: 'switch',
    checked: me.settings?.read_receipts !== false,
    role: 'switch',
  });
  lastSeen.addEventListener('change', () => saveSetting({ last_seen: lastSeen.value }, 'Last seen'));
  receipts.addEventListener('change', () => saveSetting({ read_receipts: receipts.checked }, 'Read receipts'));
  return [
    h(
      'div',
      { class: 'settings-line' },
      h(
        'label',
        { htmlFor: 'set-lastseen' },
        'Who sees my last seen',
        h('span', { class: 'muted small block' }, 'If you hide yours, you won’t see anyone else’s.'),
      ),
      lastSeen,
    ),
    h(
      'div',
      { class: 'settings-line' },
      h(
        'label',
        { htmlFor: 'set-receipts' },
        'Read receipts',
        h('span', { class: 'muted small block' }, 'Off: you neither send nor see “seen”.'),
      ),
      receipts,
    ),
  ];
}

// Appearance: this browser only, so it is not a server setting.
function themeSelect() {
  const theme = h(
    'select',
    { id: 'set-theme' },
    ['system', 'light', 'dark'].map((t) =>
      h('option', { value: t, selected: currentTheme() === t }, { system: 'Same as the system', light: 'Light', dark: 'Dark' }[t]),
    ),
  );
  theme.addEventListener('change', () => setTheme(theme.value));
  return theme;
}

// The browser's notification permission, and the button that asks for it.
function notifLine() {
  const notifState = h('span', { class: 'muted small', id: 'set-notif-state' });
  const notifBtn = h('button', { type: 'button', class: 'btn btn-ghost', 'aria-describedby': 'set-notif-state' }, 'Turn on');
  const renderNotif = () => {
    const p = permission();
    notifState.textContent = {
      granted: 'On: you are notified of new messages while duet is in the background.',
      denied: 'Blocked in your browser settings.',
      default: 'Off.',
      unsupported: 'Not supported by this browser.',
    }[p];
    notifBtn.hidden = p !== 'default';
  };
  notifBtn.addEventListener('click', async () => {
    await askPermission();
    renderNotif();
  });
  renderNotif();
  return h('div', { class: 'settings-line' }, notifState, notifBtn);
}

function passwordForm() {
  const oldPw = h('input', { id: 'set-oldpw', type: 'password', autocomplete: 'current-password' });
  const newPw = h('input', { id: 'set-newpw', type: 'password', autocomplete: 'new-password', 'aria-describedby': 'set-pw-msg' });
  const pwMsg = h(
    'p',
    { id: 'set-pw-msg', class: 'field-msg', role: 'status' },
    'At least 8 characters. Your other devices will be logged out.',
  );
  const pwForm = h(
    'form',
    { class: 'settings-pw' },
    h('div', { class: 'field' }, h('label', { htmlFor: 'set-oldpw', class: 'field-label' }, 'Current password'), oldPw),
    h('div', { class: 'field' }, h('label', { htmlFor: 'set-newpw', class: 'field-label' }, 'New password'), newPw),
    pwMsg,
    h('button', { type: 'submit', class: 'btn btn-ghost' }, 'Change password'),
  );
  pwForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if ([...newPw.value].length < 8) {
      pwMsg.textContent = errorText({ code: 'weak_password' });
      pwMsg.className = 'field-msg error';
      newPw.focus();
      return;
    }
    try {
      await api.changePassword(oldPw.value, newPw.value);
      oldPw.value = newPw.value = '';
      pwMsg.textContent = 'Password changed. Your other sessions were logged out.';
      pwMsg.className = 'field-msg ok';
    } catch (err) {
      pwMsg.textContent = err.code === 'bad_credentials' ? 'The current password is wrong.' : errorText(err);
      pwMsg.className = 'field-msg error';
    }
  });
  return pwForm;
}
