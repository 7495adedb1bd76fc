// auth.js - log in and sign up, with inline errors under the field they
// concern.
import { api, errorText } from '../api.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';

const USERNAME_RE = /^[a-z0-9_.]{3,32}$/;

function field({ id, label, type = 'text', autocomplete, hint, optional }) {
  const input = h('input', {
    id,
    name: id,
    type,
    autocomplete,
    required: !optional,
    spellcheck: false,
    autocapitalize: 'none',
    'aria-describedby': `${id}-msg`,
  });
  const msg = h('p', { id: `${id}-msg`, class: 'field-msg' }, hint || '');
  const wrap = h(
    'div',
    { class: 'field' },
    h('label', { htmlFor: id, class: 'field-label' }, label, optional ? h('span', { class: 'optional' }, ' (optional)') : null),
  );
  if (type === 'password') {
    const toggle = h(
      'button',
      { type: 'button', class: 'icon-btn reveal', 'aria-label': 'Show password', 'aria-pressed': 'false' },
      icon('eye', { size: 18 }),
    );
    toggle.addEventListener('click', () => {
      const show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      toggle.setAttribute('aria-pressed', String(show));
      toggle.setAttribute('aria-label', show ? 'Hide password' : 'Show password');
      toggle.replaceChildren(icon(show ? 'eyeOff' : 'eye', { size: 18 }));
      input.focus();
    });
    wrap.append(h('div', { class: 'input-wrap' }, input, toggle), msg);
  } else {
    wrap.append(input, msg);
  }
  const setError = (text) => {
    msg.textContent = text || hint || '';
    msg.classList.toggle('error', !!text);
    if (text) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  };
  return { wrap, input, setError };
}

export function renderAuth(root, { onLoggedIn, mode: initial = 'login' }) {
  let mode = initial;
  let typedName = ''; // kept when switching between log in and sign up
  const card = h('main', { class: 'auth-card' });
  const page = h(
    'div',
    { class: 'auth-page' },
    h(
      'div',
      { class: 'auth-brand' },
      h('span', { class: 'logo', 'aria-hidden': 'true' }, icon('chat', { size: 26 })),
      h('h1', { class: 'brand-name' }, 'duet'),
    ),
    card,
    h('p', { class: 'auth-foot' }, 'Private one-to-one chat, on your own server.'),
  );
  root.replaceChildren(page);

  function render() {
    const signup = mode === 'signup';
    const f = authForm(signup, {
      onSwitch: () => {
        typedName = f.user.input.value;
        mode = signup ? 'login' : 'signup';
        render();
      },
    });
    f.form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitAuth(f, signup, onLoggedIn);
    });
    card.replaceChildren(f.form);
    f.user.input.value = typedName;
    if (typedName) f.pass.input.focus();
    else f.user.input.focus();
  }
  render();
}

// The form of either mode, not yet wired to submit.
function authForm(signup, { onSwitch }) {
  const user = field({
    id: 'auth-username',
    label: 'Username',
    autocomplete: 'username',
    hint: signup ? '3–32 characters: a–z, 0–9, “_” and “.”' : '',
  });
  const name = signup ? field({ id: 'auth-display', label: 'Display name', autocomplete: 'nickname', optional: true }) : null;
  const pass = field({
    id: 'auth-password',
    label: 'Password',
    type: 'password',
    autocomplete: signup ? 'new-password' : 'current-password',
    hint: signup ? 'At least 8 characters' : '',
  });
  const formError = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, signup ? 'Create account' : 'Log in');
  const form = h(
    'form',
    { class: 'auth-form', novalidate: true, 'aria-labelledby': 'auth-title' },
    h('h2', { id: 'auth-title', class: 'auth-title' }, signup ? 'Create your account' : 'Welcome back'),
    h('p', { class: 'auth-sub' }, signup ? 'Pick a username your friends can find you by.' : 'Log in to continue your conversations.'),
    user.wrap,
    name?.wrap,
    pass.wrap,
    formError,
    submit,
    h(
      'p',
      { class: 'auth-switch' },
      signup ? 'Already have an account? ' : 'New to duet? ',
      h('button', { type: 'button', class: 'link-btn', onclick: onSwitch }, signup ? 'Log in' : 'Create an account'),
    ),
  );
  const showFormError = (text) => {
    formError.textContent = text;
    formError.hidden = !text;
  };
  return { form, user, name, pass, submit, showFormError };
}

// Checks the fields before asking the server; false (and the first bad
// field focused) when one is wrong.
function checkFields({ form, user, pass }, signup, username, password) {
  let bad = false;
  if (!username) {
    user.setError('Enter your username.');
    bad = true;
  } else if (signup && !USERNAME_RE.test(username)) {
    user.setError(errorText({ code: 'bad_username' }));
    bad = true;
  }
  if (!password) {
    pass.setError('Enter your password.');
    bad = true;
  } else if (signup && [...password].length < 8) {
    pass.setError(errorText({ code: 'weak_password' }));
    bad = true;
  }
  if (bad) form.querySelector('[aria-invalid="true"]')?.focus();
  return !bad;
}

async function submitAuth(f, signup, onLoggedIn) {
  const { user, name, pass, submit, showFormError } = f;
  user.setError('');
  pass.setError('');
  name?.setError('');
  showFormError('');
  const username = user.input.value.trim().toLowerCase();
  const password = pass.input.value;
  if (!checkFields(f, signup, username, password)) return;
  submit.disabled = true;
  submit.classList.add('busy');
  try {
    const res = signup ? await api.signup(username, password, name.input.value.trim() || undefined) : await api.login(username, password);
    onLoggedIn(res.user);
  } catch (err) {
    showAuthError(f, err);
  } finally {
    submit.disabled = false;
    submit.classList.remove('busy');
  }
}

// The server's answer under the field it concerns, else above the button.
function showAuthError({ user, name, pass, showFormError }, err) {
  const text = errorText(err);
  if (err.code === 'username_taken' || err.code === 'bad_username') {
    user.setError(text);
    user.input.focus();
  } else if (err.code === 'weak_password') {
    pass.setError(text);
    pass.input.focus();
  } else if (err.code === 'bad_display_name' && name) {
    name.setError(text);
    name.input.focus();
  } else {
    showFormError(text);
    if (err.code === 'bad_credentials') pass.input.select();
  }
}
