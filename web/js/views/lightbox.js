// lightbox.js - a photo full screen: Escape closes, the arrow keys (and
// the buttons) go through the photos of the chat we hold, a swipe does the
// same on a phone, two fingers pinch to zoom (and one then pans), and the
// photo can be downloaded. A modal <dialog>: focus stays inside and goes
// back to the photo that opened it.
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { sentBlobUrl } from '../media/uploads.js';
import { mediaUrl, saveMedia } from './media.js';

const SWIPE_PX = 60;
const MAX_ZOOM = 5;

function photos(chat) {
  return chat.msgs.filter((m) => m.type === 1 && m.media && !m.deleted_at && !m.withheld);
}

export function openLightbox(chat, seq, opener) {
  let list = photos(chat);
  let i = list.findIndex((m) => m.seq === seq);
  if (i < 0) return;
  const img = h('img', { class: 'lb-img', alt: '', draggable: 'false' });
  const thumb = h('img', { class: 'lb-thumb', alt: '', draggable: 'false' });
  const counter = h('span', { class: 'lb-count', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', class: 'lb-btn lb-prev', 'aria-label': 'Previous photo' }, icon('back', { size: 26 }));
  const next = h('button', { type: 'button', class: 'lb-btn lb-next', 'aria-label': 'Next photo' }, icon('next', { size: 26 }));
  const dl = h('button', { type: 'button', class: 'lb-btn', 'aria-label': 'Download photo' }, icon('download', { size: 22 }));
  const close = h('button', { type: 'button', class: 'lb-btn', 'aria-label': 'Close' }, icon('close', { size: 22 }));
  const stage = h('div', { class: 'lb-stage' }, thumb, img);
  const caption = h('p', { class: 'lb-caption', dir: 'auto' });
  const dialog = h(
    'dialog',
    { class: 'lightbox', 'aria-label': 'Photo' },
    h('div', { class: 'lb-bar' }, counter, h('span', { class: 'lb-space' }), dl, close),
    stage,
    caption,
    prev,
    next,
  );

  const z = { zoom: 1, panX: 0, panY: 0 };
  const apply = () => {
    img.style.transform = z.zoom === 1 ? '' : `translate(${z.panX}px, ${z.panY}px) scale(${z.zoom})`;
    dialog.classList.toggle('zoomed', z.zoom > 1);
  };

  function show() {
    const m = list[i];
    Object.assign(z, { zoom: 1, panX: 0, panY: 0 });
    apply();
    dialog.classList.remove('loaded');
    thumb.src = m.media.thumb || '';
    img.onload = () => dialog.classList.add('loaded');
    img.src = sentBlobUrl(m.id) || mediaUrl(m.media.id);
    counter.textContent = `${i + 1} of ${list.length}`;
    caption.textContent = m.text || '';
    caption.hidden = !m.text;
    prev.disabled = i === 0;
    next.disabled = i === list.length - 1;
  }
  const go = (d) => {
    list = photos(chat);
    const cur = list.findIndex((m) => m.seq === seq);
    if (cur >= 0) i = cur;
    const j = i + d;
    if (j < 0 || j >= list.length) return;
    i = j;
    seq = list[i].seq;
    show();
  };

  prev.addEventListener('click', () => go(-1));
  next.addEventListener('click', () => go(1));
  close.addEventListener('click', () => dialog.close());
  dl.addEventListener('click', () => {
    const m = list[i];
    saveMedia(m.media, sentBlobUrl(m.id) || mediaUrl(m.media.id));
  });
  dialog.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft') go(-1);
    else if (e.key === 'ArrowRight') go(1);
    else return;
    e.preventDefault();
  });
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener?.isConnected) opener.focus({ preventScroll: true });
  });
  // A click on the dark backdrop (not the photo or a button) closes.
  stage.addEventListener('click', (e) => {
    if (e.target === stage && z.zoom === 1) dialog.close();
  });

  wireTouch(stage, z, apply, go);

  document.body.append(dialog);
  dialog.showModal();
  show();
  close.focus();
  return dialog;
}

// Touch (pointer events): one finger swipes to the next or previous photo,
// or pans when zoomed; two fingers pinch; a double tap zooms in and out.
function wireTouch(stage, z, apply, go) {
  const pts = new Map();
  let start = null;
  const snapshot = () => {
    const p = [...pts.values()];
    const n = p.length;
    const x = p.reduce((a, q) => a + q.x, 0) / (n || 1);
    const y = p.reduce((a, q) => a + q.y, 0) / (n || 1);
    const dist = n >= 2 ? Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y) : 0;
    return { n, x, y, dist, zoom: z.zoom, panX: z.panX, panY: z.panY };
  };
  stage.addEventListener('pointerdown', (e) => {
    try {
      stage.setPointerCapture(e.pointerId);
    } catch {
      /* not a live pointer */
    }
    pts.set(e.pointerId, { x: e.clientX, y: e.clientY });
    start = snapshot();
  });
  stage.addEventListener('pointermove', (e) => {
    if (!pts.has(e.pointerId) || !start) return;
    pts.set(e.pointerId, { x: e.clientX, y: e.clientY });
    const now = snapshot();
    if (pts.size >= 2 && start.dist) {
      z.zoom = Math.min(MAX_ZOOM, Math.max(1, start.zoom * (now.dist / start.dist)));
      if (z.zoom === 1) z.panX = z.panY = 0;
      apply();
    } else if (pts.size === 1 && z.zoom > 1) {
      z.panX = start.panX + (now.x - start.x);
      z.panY = start.panY + (now.y - start.y);
      apply();
    }
  });
  const up = (e) => {
    if (!pts.has(e.pointerId)) return;
    const end = { x: e.clientX, y: e.clientY };
    const single = pts.size === 1;
    pts.delete(e.pointerId);
    if (single && start && z.zoom === 1 && start.n === 1) {
      const dx = end.x - start.x;
      if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > Math.abs(end.y - start.y)) go(dx < 0 ? 1 : -1);
    }
    start = pts.size ? snapshot() : null;
  };
  stage.addEventListener('pointerup', up);
  stage.addEventListener('pointercancel', up);
  stage.addEventListener('dblclick', () => {
    Object.assign(z, { zoom: z.zoom > 1 ? 1 : 2, panX: 0, panY: 0 });
    apply();
  });
}
