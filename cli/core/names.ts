// The known name nearest to a mistyped one, for "did you mean" hints (commands, services).

/** Edit distance, case-insensitive. */
function editDistance(from: string, to: string): number {
    const a = from.toLowerCase();
    const b = to.toLowerCase();
    let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
    for (const [i, letter] of [...a].entries()) {
        const current = [i + 1];
        for (const [j, other] of [...b].entries()) {
            current.push(Math.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (letter === other ? 0 : 1)));
        }
        previous = current;
    }
    return previous[b.length];
}

/** The known name closest to `name`, when it is close enough to be a typo (or a prefix) of it. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
    const ranked = known
        .map((candidate) => ({ candidate, distance: candidate.startsWith(name) && name.length >= 3 ? 0 : editDistance(name, candidate) }))
        .sort((x, y) => x.distance - y.distance);
    const best = ranked[0];
    return best !== undefined && best.distance <= Math.max(2, Math.floor(best.candidate.length / 3)) ? best.candidate : undefined;
}
