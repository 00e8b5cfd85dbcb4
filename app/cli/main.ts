// Placeholder entry until the CLI lands; replaced by the command-line program.
console.log('cht-sync');
