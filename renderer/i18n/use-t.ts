import { createContext, useContext, useMemo } from 'react';
import { catalogue, type MessageKey } from './catalogue';
import type { Lang } from '../format';

export const LangContext = createContext<{ lang: Lang; setLang: (lang: Lang) => void }>({
  lang: 'en',
  setLang: () => undefined,
});

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** The translation function for a language: `{name}` placeholders are filled from params. */
export function makeTranslate(lang: Lang): Translate {
  const rules = new Intl.PluralRules(lang === 'fr' ? 'fr-FR' : 'en-GB');
  return (key, params) => {
    const template = catalogue[lang][key] ?? catalogue.en[key];
    if (!params) return template;
    return (
      template
        // `{n:document|documents}`: the word for the count in `n` (already formatted, e.g. "1,234").
        .replace(/\{(\w+):([^|}]*)\|([^}]*)\}/g, (whole, name: string, one: string, other: string) => {
          if (!(name in params)) return whole;
          const count = Number(String(params[name]).replace(/[^\d.-]/g, ''));
          return rules.select(count) === 'one' ? one : other;
        })
        .replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole))
    );
  };
}

/** The translation function for the current language. */
export function useT(): { t: Translate; lang: Lang; setLang: (lang: Lang) => void } {
  const { lang, setLang } = useContext(LangContext);
  const t = useMemo(() => makeTranslate(lang), [lang]);
  return { t, lang, setLang };
}
