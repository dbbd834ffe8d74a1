// The admin's theme: html[data-theme="dark"|"light"|"auto"] (Django's toggle), "auto"/absent follows
// prefers-color-scheme. watchTheme(callback) calls callback(isDark) now and on every change; returns a stop().

export function isDark() {
  const theme = document.documentElement.getAttribute("data-theme");
  if (theme === "dark") return true;
  if (theme === "light") return false;
  return !!(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
}

export function watchTheme(callback) {
  let last = isDark();
  callback(last);
  const check = () => {
    const now = isDark();
    if (now !== last) { last = now; callback(now); }
  };
  const observer = new MutationObserver(check);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  const media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  if (media) media.addEventListener("change", check);
  return () => {
    observer.disconnect();
    if (media) media.removeEventListener("change", check);
  };
}
