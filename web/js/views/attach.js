// attach.js - attaching files to the open chat: the attach button, drag
// and drop onto the chat, paste (several at once). Each file gets a tray
// item with a preview, an optional caption and a remove button; "Send as
// file" keeps the original bytes of photos and videos. The composer's send
// sends the tray (send()), then any text as its own message.
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { prepareFile } from '../media/encode.js';
import { sendMedia } from '../media/uploads.js';
import { toast } from './dialogs.js';
import { formatSize } from './media.js';

const MAX_ITEMS = 10;

export function mountAttach({ chat, section, composer, before, onChange }) {
  const fileInput = h('input', { type: 'file', multiple: true, hidden: true, class: 'attach-input', 'aria-hidden': 'true', tabIndex: -1 });
  const button = h(
    'button',
    { type: 'button', class: 'icon-btn attach-btn', 'aria-label': 'Attach photos, videos or files', title: 'Attach' },
    icon('attach', { size: 22 }),
  );
  const list = h('div', { class: 'tray-items', role: 'list', 'aria-label': 'Attachments to send' });
  const asFile = h('input', { type: 'checkbox', class: 'tray-asfile' });
  const tray = h(
    'div',
    { class: 'tray', hidden: true },
    list,
    h('label', { class: 'tray-opt' }, asFile, h('span', null, 'Send as file (original quality)')),
  );
  // Inside the text box, after the text: Shift+Tab from the text still
  // goes to the messages.
  (composer.querySelector('.composer-box') || composer).append(button, fileInput);
  section.insertBefore(tray, before);

  const items = []; // {file, url, el, caption, ready: Promise<draft>}

  function render() {
    tray.hidden = items.length === 0;
    composer.classList.toggle('has-tray', items.length > 0);
    onChange?.(items.length);
  }

  function add(files) {
    const room = MAX_ITEMS - items.length;
    const take = [...files].slice(0, Math.max(0, room));
    if (files.length > take.length) toast(`At most ${MAX_ITEMS} attachments at once.`, { error: true });
    for (const file of take) {
      if (!file.size) {
        toast(`“${file.name}” is empty.`, { error: true });
        continue;
      }
      const it = trayItem(file, {
        onRemove: () => {
          const i = items.indexOf(it);
          if (i >= 0) items.splice(i, 1);
          it.el.remove();
          if (it.url) URL.revokeObjectURL(it.url);
          render();
          (items[Math.min(i, items.length - 1)]?.el.querySelector('.tray-remove') || button).focus();
        },
        onEnter: () => composer.requestSubmit(),
      });
      items.push(it);
      list.append(it.el);
    }
    render();
  }

  button.addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => {
    add(fileInput.files || []);
    fileInput.value = '';
  });

  const unwire = wireDrop(section, composer, add);

  // Sends every tray item (each with its caption), in order. True if any.
  async function send() {
    if (!items.length) return false;
    const take = items.splice(0);
    const original = asFile.checked;
    list.replaceChildren();
    asFile.checked = false;
    render();
    for (const it of take) {
      try {
        const draft = await prepareFile(it.file, { asFile: original });
        await sendMedia(chat, draft, it.caption.value.trim());
      } catch (e) {
        console.warn('duet: an attachment could not be prepared', e);
        toast(`“${it.file.name}” could not be sent.`, { error: true });
      } finally {
        if (it.url) URL.revokeObjectURL(it.url);
      }
    }
    return true;
  }

  return {
    button,
    add,
    send,
    count: () => items.length,
    destroy() {
      unwire();
      for (const it of items) if (it.url) URL.revokeObjectURL(it.url);
    },
  };
}

// One tray entry: a preview (the photo, the video's first frame, or a file
// icon), the name and size, a caption field and a remove button.
function trayItem(file, { onRemove, onEnter }) {
  const isImage = file.type.startsWith('image/') && file.type !== 'image/svg+xml';
  const isVideo = file.type.startsWith('video/');
  const url = isImage || isVideo ? URL.createObjectURL(file) : null;
  const caption = h('input', {
    type: 'text',
    class: 'tray-caption',
    placeholder: 'Add a caption',
    'aria-label': `Caption for ${file.name}`,
    maxLength: 4000,
  });
  const preview = isImage
    ? h('img', { class: 'tray-thumb', alt: '', src: url })
    : isVideo
      ? h('video', { class: 'tray-thumb', src: url, muted: '', preload: 'metadata' })
      : h('span', { class: 'tray-file', 'aria-hidden': 'true' }, icon('file', { size: 26 }));
  const remove = h(
    'button',
    { type: 'button', class: 'icon-btn small tray-remove', 'aria-label': `Remove ${file.name}` },
    icon('close', { size: 16 }),
  );
  const el = h(
    'div',
    { class: 'tray-item', role: 'listitem' },
    preview,
    h(
      'div',
      { class: 'tray-meta' },
      h('span', { class: 'tray-name', dir: 'auto', title: file.name }, file.name || 'file'),
      h('span', { class: 'tray-size' }, formatSize(file.size)),
      caption,
    ),
    remove,
  );
  remove.addEventListener('click', onRemove);
  caption.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      onEnter();
    }
  });
  return { file, url, caption, el };
}

// Drag and drop anywhere on the chat, and paste into the composer (files
// on the clipboard: a screenshot, copied files) go to add(). Returns the
// function that unhooks them.
function wireDrop(section, composer, add) {
  // Drag and drop anywhere on the chat.
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
  const onEnter = (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth++;
    section.classList.add('dropping');
  };
  const onOver = (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  };
  const onLeave = (e) => {
    if (!hasFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) section.classList.remove('dropping');
  };
  const onDrop = (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    section.classList.remove('dropping');
    add(e.dataTransfer.files);
  };
  section.addEventListener('dragenter', onEnter);
  section.addEventListener('dragover', onOver);
  section.addEventListener('dragleave', onLeave);
  section.addEventListener('drop', onDrop);
  // Paste: files on the clipboard (a screenshot, copied files) join the tray.
  const onPaste = (e) => {
    const files = [...(e.clipboardData?.files || [])];
    if (!files.length) return;
    e.preventDefault();
    add(files);
  };
  composer.addEventListener('paste', onPaste);
  return () => {
    section.removeEventListener('dragenter', onEnter);
    section.removeEventListener('dragover', onOver);
    section.removeEventListener('dragleave', onLeave);
    section.removeEventListener('drop', onDrop);
    composer.removeEventListener('paste', onPaste);
  };
}
