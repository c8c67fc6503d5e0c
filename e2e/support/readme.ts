// The README's own code blocks, as the scenarios that follow it run them: a block is marked by the
// comment `<!-- readme: <section> (<what>) -->` on the line before it, where <what> is `run` (shell
// commands) or the name of the file the block is.

export interface ReadmeBlock {
    /** `run`, or the file the block holds. */
    readonly what: string;
    readonly text: string;
}

/** The marked blocks of `section`, in the README's order. */
export function readmeBlocks(markdown: string, section: string): ReadmeBlock[] {
    const marker = /<!-- readme: (.+?) \((.+?)\) -->\n```[^\n]*\n([\s\S]*?)\n```/g;
    return [...markdown.matchAll(marker)].filter((match) => match[1] === section).map((match) => ({ what: match[2], text: match[3] }));
}

/** One bash script doing what the blocks say, in order: files written, commands run, the first failure stopping it. */
export function readmeScript(blocks: readonly ReadmeBlock[]): string {
    const steps = blocks.map((block) => {
        if (block.what === "run") {
            return block.text;
        }
        if (block.text.split("\n").includes("README_FILE")) {
            throw new Error(`the README's ${block.what} holds the line README_FILE, which ends this script's here-document`);
        }
        return `cat > '${block.what}' <<'README_FILE'\n${block.text}\nREADME_FILE`;
    });
    return ["set -euxo pipefail", ...steps].join("\n") + "\n";
}

/** The command lines of the blocks marked `run`, in order; comments and blank lines left out. */
export function readmeCommands(blocks: readonly ReadmeBlock[]): string[] {
    return blocks
        .filter((block) => block.what === "run")
        .flatMap((block) => block.text.split("\n"))
        .filter((line) => line.trim() !== "" && !line.trim().startsWith("#"));
}
