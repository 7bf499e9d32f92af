using System.Reflection;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace FlashAttention.Cuda.Ptx;

/// <summary>
/// A kernel run by ILGPU's CPU accelerator with the PTX intrinsics emulated (<see cref="HostSimt"/>): the same C# the GPU
/// runs, one host thread per GPU thread. Thousands of times slower than the GPU; it exists so that the kernels' index
/// arithmetic, fragment layouts, masking and pipelining are checked against the reference on machines without a GPU
/// (CI included).
/// </summary>
internal sealed class EmulatedKernel
{
    private readonly Kernel _kernel;
    private readonly Dictionary<Type, Delegate> _launchers = [];

    public EmulatedKernel(Accelerator accelerator, MethodInfo method)
    {
        Accelerator = accelerator;
        _kernel = accelerator.LoadKernel(method);
    }

    public Accelerator Accelerator { get; }

    /// <summary>Runs the kernel to completion; throws if a thread faulted (an address outside <paramref name="ranges"/>, say).</summary>
    public void Launch<TParams>((int X, int Y, int Z) grid, int threads, int sharedBytes, TParams parameters,
        IReadOnlyList<(ulong Address, long Bytes)> ranges)
        where TParams : unmanaged
    {
        Action<AcceleratorStream, KernelConfig, TParams> launcher;
        lock (_launchers)
        {
            if (!_launchers.TryGetValue(typeof(TParams), out var existing))
            {
                existing = _kernel.CreateLauncherDelegate<Action<AcceleratorStream, KernelConfig, TParams>>();
                _launchers[typeof(TParams)] = existing;
            }
            launcher = (Action<AcceleratorStream, KernelConfig, TParams>)existing;
        }
        Accelerator.Synchronize();
        using var launch = HostSimt.Begin(sharedBytes, ranges);
        launcher(Accelerator.DefaultStream, new KernelConfig(new Index3D(grid.X, grid.Y, grid.Z), new Index3D(threads, 1, 1)), parameters);
        Accelerator.Synchronize();
    }

    /// <summary>As <see cref="Launch{TParams}"/> for a kernel with a second by-value parameter.</summary>
    public void Launch<TParams, TMods>((int X, int Y, int Z) grid, int threads, int sharedBytes, TParams parameters, TMods mods,
        IReadOnlyList<(ulong Address, long Bytes)> ranges)
        where TParams : unmanaged
        where TMods : unmanaged
    {
        Action<AcceleratorStream, KernelConfig, TParams, TMods> launcher;
        lock (_launchers)
        {
            if (!_launchers.TryGetValue(typeof((TParams, TMods)), out var existing))
            {
                existing = _kernel.CreateLauncherDelegate<Action<AcceleratorStream, KernelConfig, TParams, TMods>>();
                _launchers[typeof((TParams, TMods))] = existing;
            }
            launcher = (Action<AcceleratorStream, KernelConfig, TParams, TMods>)existing;
        }
        Accelerator.Synchronize();
        using var launch = HostSimt.Begin(sharedBytes, ranges);
        launcher(Accelerator.DefaultStream, new KernelConfig(new Index3D(grid.X, grid.Y, grid.Z), new Index3D(threads, 1, 1)), parameters, mods);
        Accelerator.Synchronize();
    }

    /// <summary>
    /// A CPU accelerator shaped like one GPU multiprocessor: warps of 32 threads, up to 8 warps per block, one block at a
    /// time (in parallel mode, so each GPU thread is a host thread and barriers are real).
    /// </summary>
    public static (Context Context, CPUAccelerator Accelerator) CreateAccelerator()
    {
        var context = Context.Create(builder => builder.CPU(new CPUDevice(32, 8, 1)).Optimize(OptimizationLevel.O0));
        return (context, context.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel));
    }
}
