// Alert sounds synthesised with WebAudio: no audio files, nothing to download.
//
// Three patterns that differ in rhythm and pitch, not only in colour of tone, so they can be
// told apart without seeing the screen:
//   alert       — three rising sweeps, urgent;
//   early       — two slow "ding-dong" pairs, attention without panic;
//   clear       — a calm rising major arpeggio.
// Browsers only let a page start audio after a user gesture, so sounds stay muted until the
// user turns them on (and, after a reload, until the first tap or key press).

const VOLUME = 0.22;

export class Sounds {
  constructor() {
    this.ctx = null;
    this.enabled = false;
    this.lastPlayed = {};
  }

  /** True when sounds are on but the browser still waits for a gesture to allow them. */
  get blocked() {
    return this.enabled && (!this.ctx || this.ctx.state !== "running");
  }

  /** Turn sounds on. Call from a user gesture (click/keydown) for the context to start. */
  async enable() {
    this.enabled = true;
    if (!this.ctx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return false;
      this.ctx = new Ctx();
    }
    try {
      await this.ctx.resume();
    } catch {
      // Not allowed yet (no gesture); `blocked` reports it and a later gesture retries.
    }
    return this.ctx.state === "running";
  }

  disable() {
    this.enabled = false;
  }

  /** Play `kind` ("alert" | "early" | "clear") unless muted or played in the last 2.5 s. */
  play(kind) {
    if (!this.enabled || !this.ctx || this.ctx.state !== "running") return false;
    const now = performance.now();
    // A barrage arrives as many batches in a short time: one sound per burst is enough.
    if (now - (this.lastPlayed[kind] ?? -1e9) < 2500) return false;
    this.lastPlayed[kind] = now;
    const t0 = this.ctx.currentTime + 0.02;
    if (kind === "alert") {
      for (let i = 0; i < 3; i++) this.#sweep(t0 + i * 0.62, 0.5, 620, 1240, "sawtooth");
    } else if (kind === "early") {
      for (let i = 0; i < 2; i++) {
        this.#tone(t0 + i * 1.0, 0.42, 880, "sine");
        this.#tone(t0 + i * 1.0 + 0.42, 0.55, 660, "sine");
      }
    } else if (kind === "clear") {
      [523.25, 659.25, 783.99, 1046.5].forEach((f, i) =>
        this.#tone(t0 + i * 0.2, i === 3 ? 0.7 : 0.3, f, "triangle"),
      );
    }
    return true;
  }

  #envelope(start, duration, peak) {
    const gain = this.ctx.createGain();
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(peak, start + 0.03);
    gain.gain.setValueAtTime(peak, start + duration * 0.6);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + duration);
    gain.connect(this.ctx.destination);
    return gain;
  }

  #tone(start, duration, freq, type) {
    const osc = this.ctx.createOscillator();
    osc.type = type;
    osc.frequency.setValueAtTime(freq, start);
    osc.connect(this.#envelope(start, duration, VOLUME));
    osc.start(start);
    osc.stop(start + duration + 0.05);
  }

  #sweep(start, duration, from, to, type) {
    const osc = this.ctx.createOscillator();
    osc.type = type;
    osc.frequency.setValueAtTime(from, start);
    osc.frequency.exponentialRampToValueAtTime(to, start + duration);
    // Soften the sawtooth so it is urgent without being painful.
    const filter = this.ctx.createBiquadFilter();
    filter.type = "lowpass";
    filter.frequency.value = 2400;
    osc.connect(filter);
    filter.connect(this.#envelope(start, duration, VOLUME * 0.8));
    osc.start(start);
    osc.stop(start + duration + 0.05);
  }
}
