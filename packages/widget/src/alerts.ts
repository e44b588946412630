/** Whether the page had a user gesture (sticky activation): only then may audio start. */
function pageActivated(): boolean {
  return navigator.userActivation?.hasBeenActive ?? false;
}

/**
 * How an agent's reply makes itself noticed while the visitor looks elsewhere: a short tone
 * and a vibration, each switchable. No AudioContext is made before the page had a gesture
 * (browsers refuse to start it, and say so in the console): a reply before any gesture, say on
 * a page reloaded with a conversation going, is silent.
 */
export class Alerts {
  #audio: AudioContext | undefined;

  constructor(
    public sound: boolean,
    private readonly vibrate: boolean,
  ) {}

  /** Browsers start audio only from a gesture: make the context while we have one. */
  unlock(): void {
    if (!this.sound || this.#audio || typeof AudioContext === 'undefined') return;
    this.#audio = new AudioContext();
  }

  ring(): void {
    if (this.sound) this.beep();
    if (this.vibrate) navigator.vibrate?.([80, 60, 80]);
  }

  beep(): void {
    // A gesture anywhere on the page lets audio start later (where the browser tells).
    if (pageActivated()) this.unlock();
    const ctx = this.#audio;
    if (!ctx) return;
    if (ctx.state === 'suspended') void ctx.resume();
    const t = ctx.currentTime;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.12, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(t + 0.32);
  }

  close(): void {
    void this.#audio?.close();
  }
}
