import { useEffect } from 'preact/hooks';

/** What someone without a session sees: how to get a sign-in link from the bot. */
export function SignInPage() {
  useEffect(() => {
    document.title = 'Sign in · Topicdesk console';
  }, []);
  return (
    <main class="center sign-in">
      <h1>Topicdesk console</h1>
      <p>You are not signed in.</p>
      <ol>
        <li>
          Open a private chat with the support bot in Telegram and send <code>/console</code>.
        </li>
        <li>
          The bot answers with a sign-in link. It works once, for a few minutes. When the console is
          served over https, the answer also has a button that opens the console right inside
          Telegram, signed in.
        </li>
        <li>
          Open the link and press <strong>Sign in</strong>.
        </li>
      </ol>
      <p class="muted">
        Only agents registered by an administrator get a link. Sessions end after 12 hours, or 2
        hours without use.
      </p>
    </main>
  );
}
