import { useCallback, useEffect, useRef, useState } from 'react';
import type { SettingsView } from '../app/contract/dto';
import { useClient } from './client-context';
import { ErrorNotice } from './components/error-notice';
import { explainError, type ErrorHelp } from './error-help';
import { useEvent } from './hooks/use-event';
import { useHashRoute, type Route } from './hooks/use-hash-route';
import { LangContext, useT } from './i18n/use-t';
import type { MessageKey } from './i18n/catalogue';
import type { Lang } from './format';
import { ChartsScreen } from './screens/charts-screen';
import { DashboardScreen } from './screens/dashboard-screen';
import { DataScreen } from './screens/data-screen';
import { HistoryScreen } from './screens/history-screen';
import { SettingsScreen } from './screens/settings-screen';
import { SetupWizard } from './screens/setup-wizard';

const NAV: { screen: Route['screen']; key: MessageKey }[] = [
  { screen: 'dashboard', key: 'nav.dashboard' },
  { screen: 'history', key: 'nav.history' },
  { screen: 'data', key: 'nav.data' },
  { screen: 'charts', key: 'nav.charts' },
  { screen: 'settings', key: 'nav.settings' },
];

export function App() {
  const [lang, setLangState] = useState<Lang>(() => (navigator.language.toLowerCase().startsWith('fr') ? 'fr' : 'en'));
  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    document.documentElement.lang = next;
  }, []);
  return (
    <LangContext.Provider value={{ lang, setLang }}>
      <Root />
    </LangContext.Provider>
  );
}

function Root() {
  const client = useClient();
  const { t, setLang } = useT();
  const [settings, setSettings] = useState<SettingsView | null>(null);
  const [loadError, setLoadError] = useState<ErrorHelp | null>(null);
  // Decided once at start: the wizard stays up through its first-sync step even though
  // setup.complete already marked the settings complete (settings.changed re-fetches them).
  const [isWizardOpen, setWizardOpen] = useState<boolean | null>(null);

  const load = useCallback(async () => {
    try {
      const s = await client.invoke('settings.get', {});
      setSettings(s);
      setLang(s.language);
      setWizardOpen((open) => open ?? !s.isSetupComplete);
      setLoadError(null);
    } catch (error) {
      setLoadError(explainError(error, t, { place: 'app' }));
    }
  }, [client, setLang, t]);

  useEffect(() => {
    void load();
    // Only on start (and if the client changes): later changes arrive through settings.changed.
  }, [client]);
  useEvent('settings.changed', () => void load());

  if (loadError) {
    return (
      <main className="page narrow" id="main">
        <h1>{t('app.name')}</h1>
        <ErrorNotice help={loadError} context={t('app.cannotStart')} />
        <button type="button" className="button primary" onClick={() => void load()}>
          {t('action.retry')}
        </button>
      </main>
    );
  }
  if (!settings) {
    return (
      <main className="page narrow" id="main" aria-busy="true">
        <p role="status">{t('app.loading')}</p>
      </main>
    );
  }
  if (isWizardOpen || !settings.isSetupComplete) {
    return (
      <SetupWizard
        settings={settings}
        onFinished={(s) => {
          setSettings(s);
          setWizardOpen(false);
          window.location.hash = '#/dashboard';
        }}
      />
    );
  }
  return <Shell settings={settings} onSettingsChanged={setSettings} />;
}

function Shell({
  settings,
  onSettingsChanged,
}: {
  settings: SettingsView;
  onSettingsChanged: (s: SettingsView) => void;
}) {
  const { t } = useT();
  const route = useHashRoute();
  const mainRef = useRef<HTMLElement>(null);
  const isFirstRender = useRef(true);

  useEffect(() => {
    const current = NAV.find((n) => n.screen === route.screen);
    document.title = `${current ? t(current.key) : ''} · ${t('app.name')}`;
    // Move focus to the new screen for keyboard and screen-reader users, but not on first load.
    if (isFirstRender.current) isFirstRender.current = false;
    else mainRef.current?.focus();
  }, [route, t]);

  return (
    <>
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          mainRef.current?.focus();
        }}
      >
        {t('app.skipToContent')}
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span>{t('app.name')}</span>
          {settings.isDemo && <span className="demo-tag">{t('app.demoTag')}</span>}
        </div>
        <nav aria-label={t('nav.label')}>
          <ul>
            {NAV.map((item) => (
              <li key={item.screen}>
                <a href={`#/${item.screen}`} aria-current={route.screen === item.screen ? 'page' : undefined}>
                  {t(item.key)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1} className="page">
        {route.screen === 'dashboard' && <DashboardScreen settings={settings} />}
        {route.screen === 'history' && <HistoryScreen runId={route.runId} />}
        {route.screen === 'data' && <DataScreen />}
        {route.screen === 'charts' && <ChartsScreen />}
        {route.screen === 'settings' && <SettingsScreen settings={settings} onSaved={onSettingsChanged} />}
      </main>
    </>
  );
}
