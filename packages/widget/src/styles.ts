/**
 * The default themes as CSS custom properties. Every foreground/background pair the widget
 * uses meets WCAG AA (4.5:1) in both; `contrast.test.ts` checks it.
 */
export const themes = {
  light: {
    '--td-bg': '#ffffff',
    '--td-fg': '#1a1d23',
    '--td-muted': '#596170',
    '--td-border': '#d5dae1',
    '--td-accent': '#1d5bd6',
    '--td-on-accent': '#ffffff',
    '--td-agent-bg': '#eef1f5',
    '--td-agent-fg': '#1a1d23',
    '--td-visitor-bg': '#1d5bd6',
    '--td-visitor-fg': '#ffffff',
    '--td-link': '#1849b0',
    '--td-danger': '#b3261e',
    '--td-banner-bg': '#fff4d6',
    '--td-banner-fg': '#5c4300',
    '--td-star': '#9a6400',
    '--td-shadow': '0 12px 40px rgba(16, 24, 40, 0.22)',
  },
  dark: {
    '--td-bg': '#17191e',
    '--td-fg': '#e9ebef',
    '--td-muted': '#a5adba',
    '--td-border': '#363b44',
    '--td-accent': '#2a62cc',
    '--td-on-accent': '#ffffff',
    '--td-agent-bg': '#272b33',
    '--td-agent-fg': '#e9ebef',
    '--td-visitor-bg': '#2a62cc',
    '--td-visitor-fg': '#ffffff',
    '--td-link': '#9cc2ff',
    '--td-danger': '#ff8a80',
    '--td-banner-bg': '#3a3113',
    '--td-banner-fg': '#ffe7a3',
    '--td-star': '#ffc940',
    '--td-shadow': '0 12px 40px rgba(0, 0, 0, 0.6)',
  },
} as const;

/** Foreground/background pairs in use, checked for contrast. */
export const contrastPairs: ReadonlyArray<readonly [fg: string, bg: string]> = [
  ['--td-fg', '--td-bg'],
  ['--td-muted', '--td-bg'],
  ['--td-agent-fg', '--td-agent-bg'],
  ['--td-visitor-fg', '--td-visitor-bg'],
  ['--td-on-accent', '--td-accent'],
  ['--td-link', '--td-agent-bg'],
  ['--td-link', '--td-bg'],
  ['--td-danger', '--td-bg'],
  ['--td-banner-fg', '--td-banner-bg'],
  // The chosen stars of a rating: a graphic, but they carry the score.
  ['--td-star', '--td-bg'],
];

/**
 * A theme: custom properties for both schemes, or `{ light, dark }` for each. Names must start
 * with `--td-`; values may not close the rule they are written into.
 */
export type ThemeVars = Record<string, string>;
export type Theme = ThemeVars | { light?: ThemeVars; dark?: ThemeVars };

function declarations(vars: ThemeVars | undefined): string {
  let css = '';
  for (const [name, value] of Object.entries(vars ?? {})) {
    if (!/^--td-[a-z0-9-]+$/.test(name) || /[;{}<]/.test(value)) continue;
    css += `${name}:${value};`;
  }
  return css;
}

function split(theme: Theme | undefined): {
  light?: ThemeVars;
  dark?: ThemeVars;
  both?: ThemeVars;
} {
  if (!theme) return {};
  if ('light' in theme || 'dark' in theme) {
    const { light, dark } = theme as { light?: ThemeVars; dark?: ThemeVars };
    return { ...(light ? { light } : {}), ...(dark ? { dark } : {}) };
  }
  return { both: theme as ThemeVars };
}

export function themeCss(theme?: Theme): string {
  const custom = split(theme);
  return (
    `:host{${declarations(themes.light)}${declarations(custom.both)}${declarations(custom.light)}}` +
    `@media (prefers-color-scheme:dark){:host{${declarations(themes.dark)}${declarations(custom.both)}${declarations(custom.dark)}}}`
  );
}

export const baseCss = `
:host{all:initial;color-scheme:light dark;--td-font:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;--td-radius:16px;--td-z:2147483000;--td-gap:20px}
*{box-sizing:border-box}
.root{font:15px/1.45 var(--td-font);color:var(--td-fg);-webkit-font-smoothing:antialiased}
[hidden]{display:none!important}
button,input,textarea{font:inherit;color:inherit}
button{cursor:pointer}
:focus-visible{outline:3px solid var(--td-accent);outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap}
.launcher{position:fixed;bottom:calc(var(--td-gap) + env(safe-area-inset-bottom,0px));right:calc(var(--td-gap) + env(safe-area-inset-right,0px));z-index:var(--td-z);width:60px;height:60px;border:0;border-radius:50%;background:var(--td-accent);color:var(--td-on-accent);box-shadow:var(--td-shadow);display:grid;place-items:center;transition:transform .15s}
.left .launcher{right:auto;left:calc(var(--td-gap) + env(safe-area-inset-left,0px))}
.launcher:hover{transform:scale(1.06)}
.launcher svg{width:28px;height:28px;fill:currentColor}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:var(--td-danger);color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;border:2px solid var(--td-bg)}
@media (prefers-color-scheme:dark){.badge{background:#c62828}}
.panel{position:fixed;bottom:calc(var(--td-gap) + 72px);right:var(--td-gap);z-index:var(--td-z);width:380px;height:min(640px,calc(var(--td-vh,100vh) - 120px));display:flex;flex-direction:column;background:var(--td-bg);border:1px solid var(--td-border);border-radius:var(--td-radius);box-shadow:var(--td-shadow);overflow:hidden}
.left .panel{right:auto;left:var(--td-gap)}
.head{display:flex;align-items:center;gap:10px;padding:14px;padding-inline-start:18px;background:var(--td-accent);color:var(--td-on-accent)}
.titles{flex:1;min-width:0}
h2{margin:0;font-size:17px;font-weight:650;line-height:1.25;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.subtitle{margin:2px 0 0;font-size:13px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.icon{flex:none;width:36px;height:36px;border:0;border-radius:50%;background:transparent;color:inherit;display:grid;place-items:center}
.icon:hover{background:rgba(255,255,255,.16)}
.icon svg{width:20px;height:20px;fill:currentColor}
.head :focus-visible{outline-color:var(--td-on-accent)}
.icon[aria-pressed=false] svg{opacity:.75}
.banner{margin:0;padding:8px 16px;background:var(--td-banner-bg);color:var(--td-banner-fg);font-size:13px}
.notice{display:flex;align-items:flex-start;gap:8px;padding:8px;padding-inline-start:16px;background:var(--td-agent-bg);color:var(--td-agent-fg);font-size:13px;border-bottom:1px solid var(--td-border)}
.notice span{flex:1;padding-top:6px;white-space:pre-wrap;overflow-wrap:anywhere}
.notice .icon{width:28px;height:28px}
.notice .icon:hover{background:var(--td-border)}
.who{display:flex;align-items:center;gap:6px;padding:8px 16px;border-bottom:1px solid var(--td-border);font-size:13px;color:var(--td-muted)}
.who b{color:var(--td-fg);font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:60%}
.link{border:0;background:none;padding:2px 4px;color:var(--td-link);text-decoration:underline;font-size:13px}
.who form{display:flex;gap:6px;flex:1}
.who input{flex:1;min-width:0;font-size:16px;padding:4px 8px;border:1px solid var(--td-border);border-radius:8px;background:var(--td-bg)}
.log{flex:1;overflow-y:auto;margin:0;padding:16px;list-style:none;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}
.row{display:flex;flex-direction:column;max-width:82%;align-self:flex-start;align-items:flex-start}
.row.visitor{align-self:flex-end;align-items:flex-end}
.row.system{align-self:center;max-width:92%;align-items:center;text-align:center;font-size:13px;color:var(--td-muted)}
.row.system .bubble{background:transparent;border:1px dashed var(--td-border);color:var(--td-fg)}
.bubble{padding:9px 13px;border-radius:16px;background:var(--td-agent-bg);color:var(--td-agent-fg);white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;max-width:100%}
.visitor .bubble{background:var(--td-visitor-bg);color:var(--td-visitor-fg);border-end-end-radius:4px}
.agent .bubble{border-end-start-radius:4px}
.bubble a{color:var(--td-link);text-decoration:underline}
.visitor .bubble a{color:inherit}
.author{display:block;font-size:12px;font-weight:650;margin-bottom:2px}
.meta{margin-top:3px;font-size:12px;color:var(--td-muted);display:flex;flex-wrap:wrap;gap:2px 6px;align-items:baseline}
.failed .meta{max-width:100%}
.visitor .meta{justify-content:flex-end;text-align:end}
.failed .meta{color:var(--td-danger)}
.meta .link{font-size:12px;padding:0}
.closed{padding:14px 16px;border-top:1px solid var(--td-border);text-align:center;color:var(--td-muted)}
.closed p{margin:0 0 8px}
.actions{display:flex;flex-wrap:wrap;gap:8px 12px;justify-content:center;align-items:center}
.primary{border:0;border-radius:10px;padding:9px 16px;background:var(--td-accent);color:var(--td-on-accent);font-weight:600}
.prechat{display:flex;flex-wrap:wrap;align-items:flex-start;gap:10px 12px;padding:12px 16px;border-top:1px solid var(--td-border);overflow-y:auto;max-height:70%;flex:none}
.prechat .intro{margin:0;font-size:14px;flex-basis:100%}
.field{display:flex;flex-direction:column;gap:3px;flex:1 1 240px;min-width:0}
.field label{font-size:13px;font-weight:600}
.field .optional{font-weight:400;color:var(--td-muted)}
.field input{font-size:16px;padding:7px 10px;border:1px solid var(--td-border);border-radius:10px;background:var(--td-bg);min-width:0}
.error{margin:0;font-size:13px;color:var(--td-danger)}
.field input[aria-invalid=true]{border-color:var(--td-danger);border-width:2px}
.prechat .primary{margin-inline-start:auto;align-self:flex-end}
.rating{display:flex;flex-direction:column;gap:6px;margin:0 0 12px;text-align:start;color:var(--td-fg)}
.rating fieldset{border:0;margin:0;padding:0;min-width:0;text-align:center}
.rating legend{padding:0;margin:0 auto 2px;font-weight:600}
.stars{display:flex;justify-content:center;gap:2px}
.stars label{font-size:30px;line-height:1;padding:2px 5px;color:var(--td-muted);cursor:pointer}
.stars label.on{color:var(--td-star)}
.stars input:focus-visible+span{outline:3px solid var(--td-accent);outline-offset:2px;border-radius:6px}
.rating>label{font-size:13px;font-weight:600}
.rating textarea{flex:none;min-height:56px}
.rating .primary{align-self:center}
.thanks{margin:0 0 12px;color:var(--td-fg);font-weight:600}
.composer{display:flex;gap:8px;align-items:flex-end;padding:10px 12px;border-top:1px solid var(--td-border)}
textarea{flex:1;resize:none;min-height:40px;max-height:140px;field-sizing:content;font-size:16px;padding:8px 12px;border:1px solid var(--td-border);border-radius:12px;background:var(--td-bg);line-height:1.4}
textarea::placeholder{color:var(--td-muted);opacity:1}
.send{flex:none;width:40px;height:40px;border:0;border-radius:50%;background:var(--td-accent);color:var(--td-on-accent);display:grid;place-items:center}
.send svg{width:20px;height:20px;fill:currentColor}
.attach,.chip .icon,.size{color:var(--td-muted)}
.attach:hover,.chip .icon:hover{background:var(--td-border)}
.tray{list-style:none;margin:0;padding:8px 12px 0;display:flex;flex-direction:column;gap:6px;max-height:40%;overflow-y:auto;flex:none}
.chip{display:flex;align-items:center;gap:8px;padding:4px 6px;border:1px solid var(--td-border);border-radius:10px;font-size:13px}
.thumb{flex:none;width:40px;height:40px;border-radius:6px;object-fit:cover;font-size:11px;font-weight:700;line-height:40px;text-align:center;background:var(--td-agent-bg);color:var(--td-agent-fg)}
.about{flex:1;min-width:0;display:flex;flex-wrap:wrap;gap:0 6px}
.about .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.chip progress,.chip .error{flex-basis:100%}
.files{display:flex;flex-direction:column;gap:6px;margin-bottom:4px}
.files img{display:block;max-width:100%;height:auto;border-radius:10px}
.files .file.file{padding:6px 10px;border-radius:10px;background:var(--td-bg);color:var(--td-link)}
[dir=rtl] .send svg,[dir=rtl] .flip{transform:scaleX(-1)}
@media (max-width:480px),(max-height:500px){.panel,.left .panel{inset:auto 0 auto 0;top:var(--td-vt,0);width:100%;height:var(--td-vh,100%);max-height:none;border:0;border-radius:0;padding:env(safe-area-inset-top,0px) env(safe-area-inset-right,0px) env(safe-area-inset-bottom,0px) env(safe-area-inset-left,0px)}.open .launcher{display:none}}
@media (max-height:500px){.head{padding:4px 8px;padding-inline-start:14px}h2{font-size:15px}.subtitle{font-size:12px;margin:0}.head .icon{width:32px;height:32px}.banner,.notice,.who{padding-top:3px;padding-bottom:3px}.notice span{padding-top:4px}.log{padding:8px 12px;gap:6px}.composer{padding:6px 10px}.prechat{padding:6px 12px;gap:6px}.prechat .intro{font-size:13px}.closed{padding:8px 12px}}
@media (max-height:300px){.subtitle,.who{display:none}.notice span{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}}
@media (prefers-reduced-motion:reduce){.launcher{transition:none}}
`;
