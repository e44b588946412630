// The classic-script build: `<script src=".../widget.js">` defines `window.SupportChat`.
import { SupportChat } from './index';

declare global {
  interface Window {
    SupportChat: typeof SupportChat;
  }
}

window.SupportChat = SupportChat;
