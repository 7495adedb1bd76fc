// voice.js - a voice note in a bubble: play/pause, the waveform (the
// played part drawn over it; click or arrow keys to seek), the time, and
// speeds of 1×, 1.5× and 2×. The duration is the sender's (a MediaRecorder
// file does not say its own).
import { h } from '../dom.js';
import { icon } from '../icons.js';

const SPEEDS = [1, 1.5, 2];

export function formatDuration(ms) {
  const s = Math.max(0, Math.round((ms || 0) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function voiceEl(md, src) {
  const audio = h('audio', { preload: 'none' });
  audio.src = src;
  const total = md.duration_ms || 0;
  const ui = {
    audio,
    total,
    peaks: md.waveform || [],
    cv: h('canvas', { class: 'voice-wave', width: 180, height: 32 }),
    playBtn: h('button', { type: 'button', class: 'voice-play', 'aria-label': 'Play voice message' }, icon('play', { size: 18 })),
    timeEl: h('span', { class: 'voice-time' }, formatDuration(total)),
    speedBtn: h('button', { type: 'button', class: 'voice-speed', 'aria-label': 'Playback speed 1×' }, '1×'),
  };
  ui.track = h(
    'div',
    {
      class: 'voice-track',
      role: 'slider',
      tabIndex: 0,
      'aria-label': 'Position in the voice message',
      'aria-valuemin': '0',
      'aria-valuemax': String(Math.round(total / 1000)),
      'aria-valuenow': '0',
    },
    ui.cv,
  );
  ui.box = h(
    'div',
    { class: 'voice', dataset: { duration: String(total) } },
    ui.playBtn,
    ui.track,
    h('div', { class: 'voice-side' }, ui.timeEl, ui.speedBtn),
    audio,
  );
  wirePlayer(ui);
  wireControls(ui);
  return ui.box;
}

// The duration in ms: the element's once it knows one, else the sender's.
function durMs(ui) {
  const a = ui.audio;
  return (Number.isFinite(a.duration) && a.duration > 0 ? a.duration * 1000 : ui.total) || 1;
}

function draw(ui) {
  const a = ui.audio;
  drawWave(ui.cv, ui.peaks, Math.min(1, (a.currentTime * 1000) / durMs(ui)));
  ui.timeEl.textContent = formatDuration(a.currentTime > 0 || !a.paused ? a.currentTime * 1000 : ui.total);
  ui.track.setAttribute('aria-valuenow', String(Math.round(a.currentTime)));
}

// Playing and pausing: the button, and a redraw every frame while playing.
function wirePlayer(ui) {
  const { audio, playBtn, box } = ui;
  let frame = 0;
  const loop = () => {
    draw(ui);
    frame = audio.paused ? 0 : requestAnimationFrame(loop);
  };
  audio.addEventListener('play', () => {
    playBtn.replaceChildren(icon('pause', { size: 18 }));
    playBtn.setAttribute('aria-label', 'Pause voice message');
    box.classList.add('playing');
    if (!frame) frame = requestAnimationFrame(loop);
  });
  const stopped = () => {
    playBtn.replaceChildren(icon('play', { size: 18 }));
    playBtn.setAttribute('aria-label', 'Play voice message');
    box.classList.remove('playing');
    draw(ui);
  };
  audio.addEventListener('pause', stopped);
  audio.addEventListener('ended', () => {
    audio.currentTime = 0;
    stopped();
  });
  audio.addEventListener('seeked', () => draw(ui));
  requestAnimationFrame(() => draw(ui));
}

// The buttons and the seekable waveform.
function wireControls(ui) {
  const { audio, playBtn, speedBtn, track, cv } = ui;
  playBtn.addEventListener('click', (e) => {
    e.stopPropagation();
    if (audio.paused) audio.play().catch((err) => console.warn('duet: voice note', err));
    else audio.pause();
  });
  speedBtn.addEventListener('click', (e) => {
    e.stopPropagation();
    const next = SPEEDS[(SPEEDS.indexOf(audio.playbackRate) + 1) % SPEEDS.length];
    audio.playbackRate = next;
    audio.defaultPlaybackRate = next;
    speedBtn.textContent = `${next}×`;
    speedBtn.setAttribute('aria-label', `Playback speed ${next}×`);
  });
  const seekTo = (frac) => {
    const d = durMs(ui) / 1000;
    audio.currentTime = Math.max(0, Math.min(d - 0.05, frac * d));
    draw(ui);
  };
  track.addEventListener('click', (e) => {
    e.stopPropagation();
    const r = cv.getBoundingClientRect();
    seekTo((e.clientX - r.left) / r.width);
  });
  track.addEventListener('keydown', (e) => {
    const step = 5000 / durMs(ui);
    const frac = (audio.currentTime * 1000) / durMs(ui);
    if (e.key === 'ArrowRight') seekTo(frac + step);
    else if (e.key === 'ArrowLeft') seekTo(frac - step);
    else if (e.key === ' ' || e.key === 'Enter') playBtn.click();
    else return;
    e.preventDefault();
    e.stopPropagation();
  });
}

// The peaks as bars; the played part in its own colour.
export function drawWave(cv, peaks, frac) {
  const dpr = window.devicePixelRatio || 1;
  const cssW = cv.clientWidth || 180;
  const cssH = cv.clientHeight || 32;
  if (cv.width !== Math.round(cssW * dpr)) cv.width = Math.round(cssW * dpr);
  if (cv.height !== Math.round(cssH * dpr)) cv.height = Math.round(cssH * dpr);
  const g = cv.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  const style = getComputedStyle(cv);
  const played = style.getPropertyValue('--wave-played').trim() || '#4f46e5';
  const rest = style.getPropertyValue('--wave-rest').trim() || '#9aa0b4';
  const n = peaks.length || 48;
  const bw = cssW / n;
  for (let i = 0; i < n; i++) {
    // sqrt: quiet parts of speech still show.
    const p = peaks.length ? Math.sqrt(peaks[i] / 255) : 0.15;
    const bh = Math.max(3, p * (cssH - 4));
    const on = (i + 0.5) / n <= frac;
    g.fillStyle = on ? played : rest;
    g.globalAlpha = on ? 1 : 0.55;
    g.fillRect(i * bw + bw * 0.2, (cssH - bh) / 2, Math.max(1.5, bw * 0.6), bh);
  }
  g.globalAlpha = 1;
}
