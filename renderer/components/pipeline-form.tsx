import type { PipelineSetting } from '../../app/contract/dto';
import { useT } from '../i18n/use-t';
import { RadioGroup } from './radio-group';
import { TextField } from './text-field';

export interface PipelineDraft {
  kind: PipelineSetting['kind'];
  path: string;
  url: string;
}

export function pipelineDraftFrom(p: PipelineSetting): PipelineDraft {
  return { kind: p.kind, path: p.kind === 'folder' ? p.path : '', url: p.kind === 'git' ? p.url : '' };
}

export function pipelineInput(d: PipelineDraft): PipelineSetting {
  if (d.kind === 'folder') return { kind: 'folder', path: d.path.trim() };
  if (d.kind === 'git') return { kind: 'git', url: d.url.trim() };
  return { kind: 'bundled' };
}

export function isPipelineDraftComplete(d: PipelineDraft): boolean {
  return d.kind === 'bundled' || (d.kind === 'folder' ? d.path.trim() !== '' : d.url.trim() !== '');
}

/** Which dbt project builds the analytics tables: bundled models, a folder, or a git URL (cached for offline use). */
export function PipelineForm({
  draft,
  onDraft,
  isLegendHidden = false,
}: {
  draft: PipelineDraft;
  onDraft: (d: PipelineDraft) => void;
  isLegendHidden?: boolean;
}) {
  const { t } = useT();
  return (
    <RadioGroup
      legend={t('pipeline.legend')}
      isLegendHidden={isLegendHidden}
      value={draft.kind}
      onValue={(kind) => onDraft({ ...draft, kind })}
      options={[
        { value: 'bundled', label: t('pipeline.bundled'), description: t('pipeline.bundled.hint') },
        {
          value: 'folder',
          label: t('pipeline.folder'),
          description: t('pipeline.folder.hint'),
          children: (
            <TextField
              label={t('pipeline.path')}
              value={draft.path}
              onValue={(path) => onDraft({ ...draft, path })}
              placeholder="/home/me/cht-pipeline"
              spellCheck={false}
              required
            />
          ),
        },
        {
          value: 'git',
          label: t('pipeline.git'),
          description: t('pipeline.git.hint'),
          children: (
            <TextField
              label={t('pipeline.url')}
              value={draft.url}
              onValue={(url) => onDraft({ ...draft, url })}
              placeholder="https://github.com/medic/cht-pipeline.git"
              spellCheck={false}
              required
            />
          ),
        },
      ]}
    />
  );
}
