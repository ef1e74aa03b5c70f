// The classroom "ding" of a point award, synthesised with WebAudio (no audio files).

let context = null;
let muted = false;

try {
  muted = localStorage.getItem("homeroom.muted") === "1";
} catch {
  muted = false;
}

export function isMuted() {
  return muted;
}

export function setMuted(value) {
  muted = Boolean(value);
  try {
    localStorage.setItem("homeroom.muted", muted ? "1" : "0");
  } catch {
    // no storage: the choice lasts for this visit
  }
}

function audio() {
  const Ctor = window.AudioContext || window.webkitAudioContext;
  if (!Ctor) return null;
  if (!context) context = new Ctor();
  if (context.state === "suspended") context.resume().catch(() => {});
  return context;
}

function note(ctx, frequency, start, length, gain = 0.18, type = "sine") {
  const osc = ctx.createOscillator();
  const amp = ctx.createGain();
  osc.type = type;
  osc.frequency.setValueAtTime(frequency, start);
  amp.gain.setValueAtTime(0.0001, start);
  amp.gain.exponentialRampToValueAtTime(gain, start + 0.015);
  amp.gain.exponentialRampToValueAtTime(0.0001, start + length);
  osc.connect(amp).connect(ctx.destination);
  osc.start(start);
  osc.stop(start + length + 0.02);
}

/** A bright rising arpeggio; a bigger award (or a whole class) gets a longer one. */
export function playAward(size = 1) {
  if (muted) return;
  try {
    const ctx = audio();
    if (!ctx) return;
    const t = ctx.currentTime + 0.01;
    const notes = size > 1 ? [523.25, 659.25, 783.99, 1046.5, 1318.5] : [659.25, 830.61, 987.77, 1318.5];
    notes.forEach((freq, i) => {
      note(ctx, freq, t + i * 0.07, 0.35, 0.16);
      note(ctx, freq * 2, t + i * 0.07, 0.18, 0.04, "triangle");
    });
  } catch {
    // Sound is a nicety; never let it break an award.
  }
}

/** A soft two-note "pop" for a like or a new message arriving. */
export function playPop() {
  if (muted) return;
  try {
    const ctx = audio();
    if (!ctx) return;
    const t = ctx.currentTime + 0.01;
    note(ctx, 880, t, 0.12, 0.08);
    note(ctx, 1174.66, t + 0.06, 0.16, 0.08);
  } catch {
    // ignore
  }
}
