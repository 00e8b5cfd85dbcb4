import type { BuildOptions } from 'esbuild';

export declare const CLI_EXTERNAL: string[];
export declare function cliBundleOptions(outfile: string): BuildOptions;
