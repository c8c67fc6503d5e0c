// What the services a program declares together share: a value computed once per key in one turn of
// the event loop (a program declares its services in one), never kept longer, so a process that runs
// the program again (the Automation API's inline programs, tests) computes it again.

/** `compute`, remembered by key until the current turn of the event loop ends. */
export function sharedThisTurn<V>(compute: (key: string) => V): (key: string) => V {
    const values = new Map<string, V>();
    return (key) => {
        let value = values.get(key);
        if (value === undefined) {
            value = compute(key);
            if (values.size === 0) {
                queueMicrotask(() => values.clear());
            }
            values.set(key, value);
        }
        return value;
    };
}
