// What the phone itself can do for the driver: vibrate, beep (WebAudio, no sound file), a system
// notification (through the service worker, else the page's own), keep the screen awake.
let audio = null;
let wakeLock = null;

// A sound needs an AudioContext started by a tap (autoplay rules): made on the first one.
export function unlockSound() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!audio && Ctx) audio = new Ctx();
  if (audio && audio.state === "suspended") audio.resume().catch(() => {});
}

export function vibrate() {
  if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 800]);
}

export function beep() {
  if (!audio) return;
  for (let i = 0; i < 3; i += 1) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.4;
    osc.connect(gain).connect(audio.destination);
    const at = audio.currentTime + i * 0.35;
    osc.start(at);
    osc.stop(at + 0.2);
  }
}

export async function notify(title, body, tag) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const options = { body, tag, renotify: true, requireInteraction: true, icon: "/static/app/icon-192.png",
                    vibrate: [400, 150, 400] };
  try {
    const registration = navigator.serviceWorker && await navigator.serviceWorker.getRegistration("/app");
    if (registration) { await registration.showNotification(title, options); return; }
  } catch (err) { /* fall back to the page's own notification */ }
  try { new Notification(title, options); } catch (err) { console.warn("notification:", err); }
}

// The pickup code's screen stays lit while it is shown (a gate clerk scans it).
export async function keepAwake() {
  try { if (navigator.wakeLock && !wakeLock) wakeLock = await navigator.wakeLock.request("screen"); } catch (err) { /* not allowed */ }
}
export function releaseAwake() {
  if (wakeLock) { wakeLock.release().catch(() => {}); wakeLock = null; }
}
