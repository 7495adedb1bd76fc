// theme.js - the colour theme: 'system' (follow the OS), 'light' or
// 'dark', kept in localStorage for this browser and applied as
// <html data-theme> (app.css keys its colours on it).

const KEY = 'duet.theme';
export const THEMES = ['system', 'light', 'dark'];

export function currentTheme() {
  try {
    const t = localStorage.getItem(KEY);
    return THEMES.includes(t) ? t : 'system';
  } catch {
    return 'system';
  }
}

export function applyTheme(theme = currentTheme()) {
  const root = document.documentElement;
  if (theme === 'system') root.removeAttribute('data-theme');
  else root.dataset.theme = theme;
}

export function setTheme(theme) {
  if (!THEMES.includes(theme)) return;
  try {
    if (theme === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, theme);
  } catch {
    /* this page only */
  }
  applyTheme(theme);
}

// Other tabs follow a change.
window.addEventListener('storage', (e) => {
  if (e.key === KEY) applyTheme();
});
