using System.Diagnostics;
using ILGPU.Runtime.Cuda;

namespace FlashAttention.Cuda.Ptx;

/// <summary>
/// Times work enqueued on a <see cref="CudaAttention"/>'s default stream: the median of per-call CUDA event intervals
/// after warm-up calls (module loads, JIT and first-touch allocations stay out of the numbers). On the host emulation,
/// wall-clock time around each synchronised call.
/// </summary>
internal static class DeviceTimer
{
    /// <summary>The median, minimum and maximum milliseconds of one call of <paramref name="work"/>.</summary>
    public static (double Median, double Min, double Max) Milliseconds(CudaAttention cuda, Action work, int warmup, int repeats)
    {
        for (int i = 0; i < warmup; i++)
            work();
        cuda.Synchronize();
        var times = new double[repeats];
        if (cuda.IsEmulated)
        {
            for (int i = 0; i < repeats; i++)
            {
                var clock = Stopwatch.StartNew();
                work();
                cuda.Synchronize();
                times[i] = clock.Elapsed.TotalMilliseconds;
            }
        }
        else
        {
            var api = CudaAPI.CurrentAPI;
            var stream = ((CudaStream)cuda.Accelerator.DefaultStream).StreamPtr;
            var events = new IntPtr[repeats + 1];
            try
            {
                for (int i = 0; i < events.Length; i++)
                    CudaModule.Check(api.CreateEvent(out events[i], CudaEventFlags.CU_EVENT_DEFAULT), "cuEventCreate");
                CudaModule.Check(api.RecordEvent(events[0], stream), "cuEventRecord");
                for (int i = 0; i < repeats; i++)
                {
                    work();
                    CudaModule.Check(api.RecordEvent(events[i + 1], stream), "cuEventRecord");
                }
                CudaModule.Check(api.SynchronizeEvent(events[^1]), "cuEventSynchronize");
                for (int i = 0; i < repeats; i++)
                {
                    CudaModule.Check(api.ElapsedTime(out float ms, events[i], events[i + 1]), "cuEventElapsedTime");
                    times[i] = ms;
                }
            }
            finally
            {
                foreach (var e in events)
                    if (e != IntPtr.Zero)
                        api.DestroyEvent(e);
            }
        }
        Array.Sort(times);
        return (times[repeats / 2], times[0], times[^1]);
    }
}
