namespace FlashAttention.Cpu;

/// <summary>
/// Runs tasks 0..count-1 on at most <c>threads</c> workers, each with one state object made once for the whole call.
/// (Parallel.For's localInit runs again whenever a worker is rescheduled, so per-worker scratch would be reallocated,
/// and cold, many times in a long call.) Tasks are handed out in order from a shared counter, which balances uneven
/// tasks such as causal tiles.
/// </summary>
internal static class WorkerPool
{
    public static void Run<TState>(int count, int threads, Func<TState> createState, Action<int, TState> body)
    {
        if (count <= 0)
            return;
        int workers = Math.Max(1, Math.Min(threads, count));
        if (workers == 1)
        {
            var state = createState();
            for (int task = 0; task < count; task++)
                body(task, state);
            return;
        }
        int next = -1;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
        {
            var state = createState();
            int task;
            while ((task = Interlocked.Increment(ref next)) < count)
                body(task, state);
        });
    }
}
