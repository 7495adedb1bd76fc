// record.js - voice notes: tap the microphone to record (Opus in WebM or
// Ogg, whichever MediaRecorder writes), a timer while recording, cancel
// (nothing is kept) or send (the waveform and duration are computed here,
// then the note goes through the outbox like any file).
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { prepareVoice } from '../media/encode.js';
import { sendMedia } from '../media/uploads.js';
import { toast } from './dialogs.js';
import { formatDuration } from './media.js';

const MAX_MS = 15 * 60 * 1000; // a voice note stops itself here

function pickMime() {
  if (!window.MediaRecorder) return null;
  for (const t of ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/ogg', 'audio/mp4']) {
    if (MediaRecorder.isTypeSupported(t)) return t;
  }
  return '';
}

export function mountRecorder({ chat, composer, before, onState }) {
  const { mic, timer, cancel, send, bar } = recorderUi();
  composer.insertBefore(mic, before);
  composer.after(bar);

  let rec = null; // {recorder, stream, chunks, started, tick, keep}

  function setRecording(on) {
    bar.hidden = !on;
    composer.classList.toggle('recording', on); // a class: the header may set composer.hidden
    onState?.(on);
  }

  async function start() {
    if (rec) return;
    const mime = pickMime();
    if (mime === null || !navigator.mediaDevices?.getUserMedia) {
      toast('This browser cannot record audio.', { error: true });
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    } catch (e) {
      toast(e.name === 'NotAllowedError' ? 'duet may not use the microphone. Allow it in the browser.' : 'No microphone was found.', {
        error: true,
      });
      return;
    }
    const recorder = new MediaRecorder(stream, mime ? { mimeType: mime, audioBitsPerSecond: 32000 } : {});
    const r = { recorder, stream, chunks: [], started: Date.now(), tick: 0, keep: false };
    rec = r;
    recorder.ondataavailable = (e) => e.data.size && r.chunks.push(e.data);
    recorder.onstop = () => finish(r);
    recorder.start(1000);
    r.tick = setInterval(() => {
      const ms = Date.now() - r.started;
      timer.textContent = formatDuration(ms);
      if (ms >= MAX_MS) stop(true);
    }, 250);
    timer.textContent = '0:00';
    setRecording(true);
    send.focus();
  }

  function stop(keep) {
    if (!rec) return;
    rec.keep = keep;
    rec.elapsed = Date.now() - rec.started;
    clearInterval(rec.tick);
    if (rec.recorder.state !== 'inactive') rec.recorder.stop();
    else finish(rec);
  }

  async function finish(r) {
    r.stream.getTracks().forEach((t) => t.stop());
    if (rec === r) rec = null;
    setRecording(false);
    composer.querySelector('textarea')?.focus();
    if (!r.keep || !r.chunks.length) return;
    const blob = new Blob(r.chunks, { type: r.recorder.mimeType || r.chunks[0].type || 'audio/webm' });
    try {
      const draft = await prepareVoice(blob, r.elapsed || 0);
      await sendMedia(chat, draft, '');
    } catch (e) {
      console.warn('duet: the voice message could not be sent', e);
      toast('The voice message could not be sent.', { error: true });
    }
  }

  mic.addEventListener('click', start);
  cancel.addEventListener('click', () => stop(false));
  send.addEventListener('click', () => stop(true));
  bar.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      stop(false);
    }
  });

  return {
    mic,
    recording: () => !!rec,
    destroy() {
      if (rec) stop(false);
    },
  };
}

// The microphone button, and the bar shown while recording (cancel, a
// pulsing dot, the timer, send).
function recorderUi() {
  const mic = h(
    'button',
    { type: 'button', class: 'icon-btn mic-btn', 'aria-label': 'Record a voice message', title: 'Record a voice message' },
    icon('mic', { size: 22 }),
  );
  const timer = h('span', { class: 'rec-time', role: 'timer', 'aria-live': 'off' }, '0:00');
  const cancel = h(
    'button',
    { type: 'button', class: 'icon-btn rec-cancel', 'aria-label': 'Cancel the recording' },
    icon('trash', { size: 20 }),
  );
  const send = h(
    'button',
    { type: 'button', class: 'send-btn rec-send', 'aria-label': 'Send the voice message' },
    icon('send', { size: 20 }),
  );
  const bar = h(
    'div',
    { class: 'rec-bar', hidden: true, role: 'group', 'aria-label': 'Recording a voice message' },
    cancel,
    h('span', { class: 'rec-dot', 'aria-hidden': 'true' }),
    h('span', { class: 'rec-label' }, 'Recording'),
    timer,
    send,
  );
  return { mic, timer, cancel, send, bar };
}
