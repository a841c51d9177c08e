// The shell asks the UI to go somewhere (tray 今日跟进, a clicked reminder):
// `navigate` events `{page, id}`; `data-changed` after a snooze;
// `daily-report` when a new 日报 was built.
import { changed, go } from '../app.svelte';
import { on } from '../backend/pages';

export function onNavigate() {
  return Promise.all([
    on<{ page: string; id: string | null }>('navigate', (n) => {
      if (n.page === 'customer' && n.id) go({ name: 'customer', id: n.id });
      else if (n.page === 'today') go({ name: 'today' });
      changed();
    }),
    on<null>('data-changed', () => changed()),
    // A new daily report was built (start of the day, or the set time).
    on<null>('daily-report', () => changed()),
  ]).then((fs) => () => fs.forEach((f) => f()));
}
