// dialogs.js - modal dialogs (<dialog>: focus trap, Escape and the inert
// background come from the browser), a confirmation, a popup menu and
// toasts.
import { focusables, h } from '../dom.js';
import { icon } from '../icons.js';

let dialogSeq = 0;

// Opens a modal dialog. build(body, close) fills it. Returns {dialog, close}.
export function openDialog({ title, className = '', build, onClose, describedBy }) {
  const id = `dlg-${++dialogSeq}`;
  const opener = document.activeElement;
  const body = h('div', { class: 'dialog-body' });
  const closeBtn = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close' }, icon('close'));
  const dialog = h(
    'dialog',
    { class: ['dialog', className], 'aria-labelledby': `${id}-title`, 'aria-describedby': describedBy },
    h('header', { class: 'dialog-head' }, h('h2', { id: `${id}-title`, class: 'dialog-title' }, title), closeBtn),
    body,
  );
  let closed = false;
  const cleanups = [];
  const close = () => {
    if (closed) return;
    closed = true;
    if (dialog.open) dialog.close();
    dialog.remove();
    cleanups.forEach((fn) => fn());
    onClose?.();
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
  };
  closeBtn.addEventListener('click', close);
  dialog.addEventListener('close', close);
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    close();
  });
  // A click on the backdrop (outside the box) closes.
  dialog.addEventListener('mousedown', (e) => {
    if (e.target === dialog) {
      const r = dialog.getBoundingClientRect();
      if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) close();
    }
  });
  build(body, close, (fn) => cleanups.push(fn));
  document.body.append(dialog);
  dialog.showModal();
  const first = body.querySelector('[autofocus]') || focusables(body)[0] || closeBtn;
  first.focus();
  return { dialog, close };
}

export function confirmDialog({ title, text, confirm = 'OK', danger = false }) {
  return new Promise((resolve) => {
    let answer = false;
    openDialog({
      title,
      className: 'dialog-small',
      onClose: () => resolve(answer),
      build(body, close) {
        body.append(
          h('p', { class: 'dialog-text' }, text),
          h(
            'div',
            { class: 'dialog-actions' },
            h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, 'Cancel'),
            h(
              'button',
              {
                type: 'button',
                class: ['btn', danger ? 'btn-danger' : 'btn-primary'],
                autofocus: true,
                onclick: () => {
                  answer = true;
                  close();
                },
              },
              confirm,
            ),
          ),
        );
      },
    });
  });
}

// A popup menu under anchor. items: [{label, icon, danger, onSelect}].
export function openMenu(anchor, items, { label = 'Options' } = {}) {
  const menu = h('div', { class: 'menu', role: 'menu', 'aria-label': label });
  const buttons = items.map((it) =>
    h(
      'button',
      {
        type: 'button',
        class: ['menu-item', it.danger && 'danger'],
        role: 'menuitem',
        tabIndex: -1,
        onclick: () => {
          close();
          it.onSelect();
        },
      },
      it.icon ? icon(it.icon, { size: 18 }) : null,
      it.label,
    ),
  );
  menu.append(...buttons);
  const onDoc = (e) => {
    if (!menu.contains(e.target) && e.target !== anchor && !anchor.contains(e.target)) close(false);
  };
  const onKey = (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      buttons[(i + 1) % buttons.length].focus();
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      buttons[(i - 1 + buttons.length) % buttons.length].focus();
    } else if (e.key === 'Home') {
      e.preventDefault();
      buttons[0].focus();
    } else if (e.key === 'End') {
      e.preventDefault();
      buttons[buttons.length - 1].focus();
    } else if (e.key === 'Tab') {
      close(false);
    }
  };
  function close(refocus = true) {
    menu.remove();
    document.removeEventListener('mousedown', onDoc, true);
    anchor.setAttribute('aria-expanded', 'false');
    if (refocus) anchor.focus();
  }
  menu.addEventListener('keydown', onKey);
  document.addEventListener('mousedown', onDoc, true);
  anchor.setAttribute('aria-expanded', 'true');
  document.body.append(menu);
  const r = anchor.getBoundingClientRect();
  const w = menu.offsetWidth;
  menu.style.top = `${Math.round(r.bottom + 6)}px`;
  menu.style.left = `${Math.round(Math.max(8, Math.min(window.innerWidth - w - 8, r.right - w)))}px`;
  buttons[0]?.focus();
  return close;
}

let toastBox = null;
export function toast(text, { error = false } = {}) {
  if (!toastBox || !toastBox.isConnected) {
    toastBox = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastBox);
  }
  const t = h('div', { class: ['toast', error && 'toast-error'] }, text);
  toastBox.append(t);
  setTimeout(() => {
    t.classList.add('leaving');
    setTimeout(() => t.remove(), 300);
  }, 4000);
}
