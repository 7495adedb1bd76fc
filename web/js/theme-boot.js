// theme-boot.js - a classic script in <head>: sets the theme picked in
// settings before the first paint, so a dark page never flashes light
// (theme.js, a module, runs too late for that). Same key as theme.js.
(function () {
  try {
    var t = localStorage.getItem('duet.theme');
    if (t === 'light' || t === 'dark') document.documentElement.setAttribute('data-theme', t);
  } catch (e) {
    /* storage disabled: the system theme */
  }
})();
