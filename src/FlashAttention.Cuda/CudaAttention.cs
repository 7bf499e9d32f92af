using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using FlashAttention.Cuda.Kernels;
using FlashAttention.Cuda.Ptx;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashAttention.Cuda;

/// <summary>
/// FlashAttention on an NVIDIA GPU: FlashAttention-2 style kernels written in C#, compiled by ILGPU to PTX, with tensor
/// cores (mma.sync.m16n8k16, fp32 accumulation) through inline PTX. Tensors live in device buffers that the caller
/// allocates once (for example <c>accelerator.Allocate1D&lt;Half&gt;(n)</c>) and reuses; layouts are those of the CPU
/// <see cref="Attention"/> class (q [B, Nq, H, D], k/v [B, Nk, Hkv, D], LSE [B, H, Nq]; packed [total, H, D] with
/// cu_seqlens, LSE [H, total_q]). Calls are asynchronous on the accelerator's default stream: results are ready after
/// <see cref="Synchronize"/> or a copy back to the host.
/// </summary>
/// <remarks>
/// <para>Every option of the CPU backend: scale, causal (bottom-right aligned), sliding window, softcap, ALiBi, key
/// padding, GQA/MQA, packed variable-length batches, dropout (Philox4x32-10, the CPU's mask bit for bit), the returned
/// softmax with the dropout mask in the sign bit, cosine-similarity attention, and the caller's own score and mask
/// modifiers (<see cref="ICudaScoreMod"/>, <see cref="ICudaMaskMod"/>), forward and backward.</para>
/// <para>Storage: fp16 and bf16 run on tensor cores directly; float32 tensors are rounded once to fp16 on the device
/// (about 1e-3 relative error, fp16's range of ±65504), computed on fp16 tensor cores with fp32 accumulation, and
/// written back as float32. Head dims: any multiple of 8 up to 256; kernels are compiled for 32, 64, 96, 128 and 256,
/// and a smaller head dim runs on the next one with its extra columns zero-filled in shared memory.</para>
/// <para>An instance may be shared between threads: its calls are serialised (each enqueues its kernels in one piece).</para>
/// <para>Extra device memory is O(N): the backward pass's per-row workspace (and, for fp32 storage or cosine attention,
/// converted or normalised copies of the inputs), kept between calls. Only the returned softmax is N×N, by definition.</para>
/// </remarks>
public sealed partial class CudaAttention : IDisposable
{
    private static readonly Lazy<KernelCompiler> Compiler = new(() => new KernelCompiler(), isThreadSafe: true);

    /// <summary>The head dims with compiled kernels; every multiple of 8 up to 256 runs on the next of them.</summary>
    public static IReadOnlyList<int> KernelHeadDims { get; } = [32, 64, 96, 128, 256];

    /// <summary>The largest head dim the GPU kernels take.</summary>
    public const int MaxHeadDim = 256;

    private readonly Context? _ownedContext;
    private readonly Accelerator? _ownedAccelerator;
    private readonly ConcurrentDictionary<(MethodInfo Method, int MinBlocksPerSm), LoadedKernel> _kernels = new();
    private readonly Lock _bufferGate = new();
    /// <summary>
    /// One call at a time per instance: a call's kernels share this instance's buffers (workspace, uploads), which are
    /// safe to reuse only when each call's kernels are enqueued together, in order, on the default stream.
    /// </summary>
    private readonly Lock _callGate = new();
    private readonly Dictionary<string, MemoryBuffer1D<byte, Stride1D.Dense>> _buffers = [];
    private bool _disposed;

    /// <summary>Uses the first CUDA device; the instance owns its ILGPU context and accelerator.</summary>
    /// <exception cref="CudaNotAvailableException">There is no CUDA driver or device.</exception>
    public CudaAttention()
        : this(0) { }

    /// <summary>Uses CUDA device <paramref name="deviceIndex"/>; the instance owns its ILGPU context and accelerator.</summary>
    /// <param name="deviceIndex">Index among the CUDA devices ILGPU finds.</param>
    /// <exception cref="CudaNotAvailableException">There is no CUDA driver or no such device.</exception>
    public CudaAttention(int deviceIndex)
    {
        Context? context = null;
        try
        {
            context = Context.Create(builder => builder.Cuda());
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
                throw new CudaNotAvailableException("No CUDA device was found (ILGPU saw no NVIDIA GPU or no CUDA driver).");
            if (deviceIndex < 0 || deviceIndex >= devices.Count)
                throw new CudaNotAvailableException($"CUDA device {deviceIndex} does not exist; {devices.Count} device(s) found.");
            _ownedAccelerator = context.CreateCudaAccelerator(deviceIndex);
            _ownedContext = context;
            Accelerator = _ownedAccelerator;
        }
        catch (Exception e) when (e is not CudaNotAvailableException)
        {
            context?.Dispose();
            throw new CudaNotAvailableException($"The CUDA backend could not start: {e.Message}", e);
        }
        catch
        {
            context?.Dispose();
            throw;
        }
    }

    /// <summary>Shares a caller's accelerator (and its buffers); the caller keeps ownership and disposes it.</summary>
    /// <param name="accelerator">An ILGPU CUDA accelerator.</param>
    public CudaAttention(CudaAccelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        Accelerator = accelerator;
    }

    private CudaAttention(Context context, Accelerator accelerator)
    {
        _ownedContext = context;
        _ownedAccelerator = accelerator;
        Accelerator = accelerator;
    }

    /// <summary>
    /// The same kernels on ILGPU's CPU accelerator with the PTX instructions emulated (<see cref="HostSimt"/>): every
    /// path of this class runs, thousands of times slower than on a GPU. For tests on machines without one.
    /// </summary>
    internal static CudaAttention CreateHostEmulation()
    {
        var (context, accelerator) = EmulatedKernel.CreateAccelerator();
        return new CudaAttention(context, accelerator);
    }

    /// <summary>Whether this instance runs on the host emulation rather than a GPU.</summary>
    internal bool IsEmulated => Accelerator.AcceleratorType != AcceleratorType.Cuda;

    /// <summary>Whether a CUDA driver and at least one device are present (probes once, never throws).</summary>
    public static bool IsAvailable => Availability.Value.Available;

    /// <summary>Why <see cref="IsAvailable"/> is false (null when it is true).</summary>
    public static string? UnavailableReason => Availability.Value.Reason;

    private static readonly Lazy<(bool Available, string? Reason)> Availability = new(() =>
    {
        try
        {
            using var context = Context.Create(builder => builder.Cuda());
            int count = context.GetCudaDevices().Count;
            return count > 0 ? (true, null) : (false, "no CUDA device found");
        }
        catch (Exception e)
        {
            return (false, $"CUDA driver not usable: {e.GetType().Name}: {e.Message}");
        }
    });

    /// <summary>The accelerator that owns the device buffers and runs the kernels (a <see cref="CudaAccelerator"/>).</summary>
    public Accelerator Accelerator { get; }

    /// <summary>
    /// Backward pass: accumulate dQ in float32 with atomics inside the dK/dV kernel (fewer products, run-to-run
    /// differences in the last bits) instead of the default dQ pass of its own (deterministic). Off by default: on the
    /// H200 the separate pass measured faster (docs/gpu-notes.md). Head dims 64 and 128 only; others always use the pass.
    /// </summary>
    public bool UseAtomicDq { get; set; }

    /// <summary>Waits until every call enqueued so far has finished.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>The device address of a view's first element, for fields of an <see cref="ICudaScoreMod"/> or <see cref="ICudaMaskMod"/>.</summary>
    /// <typeparam name="T">Element type.</typeparam>
    /// <param name="view">A view of a buffer of <see cref="Accelerator"/>.</param>
    public static ulong AddressOf<T>(ArrayView1D<T, Stride1D.Dense> view) where T : unmanaged => Address(view);

    /// <summary>Whether the GPU kernels take a head dim: a multiple of 8 from 8 to 256.</summary>
    /// <param name="headDim">The head dim.</param>
    public static bool SupportsHeadDim(int headDim) => headDim is >= 8 and <= MaxHeadDim && headDim % 8 == 0;

    /// <summary>The compiled kernel head dim that serves <paramref name="headDim"/> (the smallest one at least as large).</summary>
    internal static int KernelDim(int headDim) =>
        SupportsHeadDim(headDim)
            ? KernelHeadDims.First(d => d >= headDim)
            : throw new NotSupportedException(
                $"The CUDA backend takes head dims that are multiples of 8 up to {MaxHeadDim} (16-byte rows for its copies); got {headDim}. " +
                "Use the CPU backend (Attention) for other sizes, or pad the head dim with zeros.");

    /// <summary>The kernel element kind for a storage type (float32 storage computes in fp16).</summary>
    internal static Type ElementKind<T>() =>
        typeof(T) == typeof(System.Half) || typeof(T) == typeof(ILGPU.Half) || typeof(T) == typeof(float) ? typeof(Fp16Kind)
        : typeof(T) == typeof(BFloat16) ? typeof(Bf16Kind)
        : throw new NotSupportedException($"Element type {typeof(T).Name} is not supported by the CUDA backend; use System.Half, ILGPU.Half, BFloat16 or float.");

    /// <summary>Whether the device can run sm_90 instructions (Hopper and newer), always false on the emulation.</summary>
    internal bool IsSm90 => Accelerator is CudaAccelerator cuda && cuda.Architecture is { } arch && arch.Major >= 9;

    // ---- kernels ----

    /// <summary>
    /// Compiles (once per instance) and loads a kernel method with all generic arguments bound: PTX for the driver on a
    /// GPU, or the C# itself on the host emulation. <paramref name="minBlocksPerSm"/> is the blocks per multiprocessor
    /// the driver's ptxas must leave room for (.minnctapersm, i.e. a register cap).
    /// </summary>
    internal LoadedKernel GetKernel(MethodInfo method, string name, int threads, int sharedBytes, int minBlocksPerSm = 1) =>
        _kernels.GetOrAdd((method, minBlocksPerSm), key =>
        {
            var m = key.Method;
            if (IsEmulated)
                return new LoadedKernel(name, threads, sharedBytes, null, new EmulatedKernel(Accelerator, m), null);
            var (ptx, entry) = Compiler.Value.Compile(m, threads, minBlocksPerSm);
            Accelerator.Bind();
            var module = CudaModule.Load(ptx, entry);
            if (sharedBytes > 0)
                module.SetDynamicSharedMemory(sharedBytes);
            return new LoadedKernel(name, threads, sharedBytes, module, null, ptx);
        });

    /// <summary>Compiles and loads a forward kernel variant for an element kind, score mode and features, without user mods.</summary>
    internal LoadedKernel GetKernel(ForwardVariant variant, Type kind, Type sign, Type features) =>
        GetKernel(variant.Method(kind, sign, features), variant.Name, variant.Threads, variant.SharedBytes);

    /// <summary>
    /// Enqueues a loaded kernel on <paramref name="stream"/> (zero: the default stream) on the GPU, or runs it to
    /// completion (the host emulation, which is told the device memory the launch may touch).
    /// </summary>
    internal void Launch<TParams>(LoadedKernel kernel, (int X, int Y, int Z) grid, TParams parameters, (ulong Address, long Bytes)[] ranges,
        IntPtr stream = default)
        where TParams : unmanaged
    {
        if (grid.X == 0 || grid.Y == 0 || grid.Z == 0)
            return;
        if (kernel.Module is { } module)
        {
            Accelerator.Bind();
            module.Launch(stream != IntPtr.Zero ? stream : ((CudaStream)Accelerator.DefaultStream).StreamPtr, grid, kernel.Threads, kernel.SharedBytes, parameters);
        }
        else
        {
            kernel.Emulated!.Launch(grid, kernel.Threads, kernel.SharedBytes, parameters, ranges);
        }
    }

    private (ulong Address, long Bytes)[] _modMemory = [];

    /// <summary>
    /// Host emulation only: device memory that the caller's modifiers read (the emulation checks every access against the
    /// buffers of a launch, and cannot see what a modifier's fields point to).
    /// </summary>
    internal void AllowModifierMemory<TElement>(ArrayView1D<TElement, Stride1D.Dense> view) where TElement : unmanaged =>
        _modMemory = [.. _modMemory, Range(view)];

    /// <summary>As <see cref="Launch{TParams}"/> for the attention kernels, whose second parameter carries the caller's modifiers.</summary>
    internal void Launch<TParams, TMods>(LoadedKernel kernel, (int X, int Y, int Z) grid, TParams parameters, TMods mods, (ulong Address, long Bytes)[] ranges,
        IntPtr stream = default)
        where TParams : unmanaged
        where TMods : unmanaged
    {
        if (grid.X == 0 || grid.Y == 0 || grid.Z == 0)
            return;
        if (kernel.Module is { } module)
        {
            Accelerator.Bind();
            module.Launch(stream != IntPtr.Zero ? stream : ((CudaStream)Accelerator.DefaultStream).StreamPtr, grid, kernel.Threads, kernel.SharedBytes, parameters, mods);
        }
        else
        {
            kernel.Emulated!.Launch(grid, kernel.Threads, kernel.SharedBytes, parameters, mods, [.. ranges, .. _modMemory]);
        }
    }

    // ---- device buffers ----

    /// <summary>
    /// A device buffer of this instance, grown as needed and kept across calls. Calls are ordered on the default stream,
    /// so a buffer reused by the next call is never overwritten while a kernel of the previous one still reads it.
    /// </summary>
    internal ArrayView1D<TElement, Stride1D.Dense> Scratch<TElement>(string name, long elements)
        where TElement : unmanaged
    {
        long bytes = Math.Max(elements, 1) * System.Runtime.CompilerServices.Unsafe.SizeOf<TElement>();
        lock (_bufferGate)
        {
            if (!_buffers.TryGetValue(name, out var buffer) || buffer.Length < bytes)
            {
                buffer?.Dispose();
                buffer = Accelerator.Allocate1D<byte>(Math.Max(bytes, 256));
                _buffers[name] = buffer;
            }
            ArrayView1D<TElement, Stride1D.Dense> typed = buffer.View.SubView(0, bytes).AsContiguous().Cast<TElement>();
            return typed.SubView(0, Math.Max(elements, 1));
        }
    }

    /// <summary>Copies host values into a named scratch buffer (stream-ordered) and returns its view.</summary>
    internal ArrayView1D<TElement, Stride1D.Dense> Upload<TElement>(string name, TElement[] values)
        where TElement : unmanaged
    {
        var view = Scratch<TElement>(name, values.Length);
        if (values.Length > 0)
            view.SubView(0, values.Length).CopyFromCPU(Accelerator.DefaultStream, values);
        return view;
    }

    /// <summary>The device address of a view (0 when empty).</summary>
    internal static ulong Address<TElement>(ArrayView1D<TElement, Stride1D.Dense> view)
        where TElement : unmanaged =>
        view.Length == 0 ? 0UL : (ulong)view.AsContiguous().LoadEffectiveAddressAsPtr().ToInt64();

    /// <summary>The device memory of a view, for the emulation's bounds checks.</summary>
    internal static (ulong Address, long Bytes) Range<TElement>(ArrayView1D<TElement, Stride1D.Dense> view)
        where TElement : unmanaged =>
        (Address(view), view.LengthInBytes);

    private void CheckView<TElement>(ArrayView1D<TElement, Stride1D.Dense> view, long expected, string name, string shapeText)
        where TElement : unmanaged
    {
        if (view.Length != expected)
            throw new ArgumentException($"{name} must have {expected} elements for shape {shapeText}; got {view.Length}.", name);
        if (expected > 0 && view.GetAccelerator() != Accelerator)
            throw new ArgumentException($"{name} belongs to another accelerator; allocate it on {nameof(CudaAttention)}.{nameof(Accelerator)}.", name);
        // 16-bit tensors are read with 16-byte cp.async copies and written with 16-byte stores: a sub-view that starts
        // elsewhere would fault on the device (and leave the CUDA context unusable), so it is refused here.
        if (expected > 0 && Unsafe.SizeOf<TElement>() == 2 && Address(view) % 16 != 0)
            throw new ArgumentException(
                $"{name} must start at a 16-byte aligned device address (a sub-view must begin at a multiple of 8 elements); it starts at 0x{Address(view):x}.", name);
    }

    private AcceleratorStream? _sideStream;
    private IntPtr _forkEvent, _joinEvent;

    /// <summary>
    /// A second stream for independent kernels of one call, with the events that fork it from the default stream and join
    /// it back (the caller's view stays one ordered stream). Created on first use; GPU only.
    /// </summary>
    internal (IntPtr Side, IntPtr Fork, IntPtr Join) SideStream()
    {
        lock (_bufferGate)
        {
            if (_sideStream is null)
            {
                Accelerator.Bind();
                _sideStream = Accelerator.CreateStream();
                const CudaEventFlags NoTiming = (CudaEventFlags)2;
                CudaModule.Check(CudaAPI.CurrentAPI.CreateEvent(out _forkEvent, NoTiming), "cuEventCreate");
                CudaModule.Check(CudaAPI.CurrentAPI.CreateEvent(out _joinEvent, NoTiming), "cuEventCreate");
            }
            return (((CudaStream)_sideStream).StreamPtr, _forkEvent, _joinEvent);
        }
    }

    /// <summary>Device memory this instance holds in its own buffers (workspace, converted inputs, uploaded masks): O(N).</summary>
    public long WorkspaceBytes
    {
        get
        {
            lock (_bufferGate)
                return _buffers.Values.Sum(b => b.LengthInBytes);
        }
    }

    /// <summary>Releases the loaded modules and buffers, and the accelerator and context when this instance created them.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        Accelerator.Bind();
        foreach (var kernel in _kernels.Values)
            kernel.Module?.Dispose();
        _kernels.Clear();
        lock (_bufferGate)
        {
            foreach (var buffer in _buffers.Values)
                buffer.Dispose();
            _buffers.Clear();
            if (_sideStream is not null)
            {
                CudaAPI.CurrentAPI.DestroyEvent(_forkEvent);
                CudaAPI.CurrentAPI.DestroyEvent(_joinEvent);
                _sideStream.Dispose();
                _sideStream = null;
            }
        }
        _ownedAccelerator?.Dispose();
        _ownedContext?.Dispose();
    }
}

/// <summary>A kernel loaded on the device (its module and PTX) or on the host emulation, with its launch shape.</summary>
/// <param name="Name">Kernel name (the generated method's).</param>
/// <param name="Threads">Threads per block.</param>
/// <param name="SharedBytes">Dynamic shared memory per block.</param>
/// <param name="Module">The driver module on a GPU.</param>
/// <param name="Emulated">The host-emulated kernel otherwise.</param>
/// <param name="Ptx">The PTX text on a GPU.</param>
internal sealed record LoadedKernel(string Name, int Threads, int SharedBytes, CudaModule? Module, EmulatedKernel? Emulated, string? Ptx);
