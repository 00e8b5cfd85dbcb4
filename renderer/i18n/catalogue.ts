import { en, type MessageKey } from './en';
import { fr } from './fr';

/** The one string catalogue: every user-visible sentence of the renderer lives in en.ts / fr.ts. */
export const catalogue: Record<'en' | 'fr', Record<MessageKey, string>> = { en, fr };
export type { MessageKey };
