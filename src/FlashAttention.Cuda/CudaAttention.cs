using System.Collections.Concurrent;
using System.Reflection;
using FlashAttention.Cuda.Kernels;
using FlashAttention.Cuda.Ptx;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Half = System.Half;

namespace FlashAttention.Cuda;

/// <summary>
/// FlashAttention on an NVIDIA GPU: FlashAttention-2 style kernels written in C#, compiled by ILGPU to PTX, with tensor
/// cores (mma.sync.m16n8k16, fp32 accumulation) through inline PTX. Tensors live in device buffers that the caller
/// allocates once (for example <c>accelerator.Allocate1D&lt;Half&gt;(n)</c>) and reuses; layouts are those of the CPU
/// <see cref="Attention"/> class (q [B, Nq, H, D], k/v [B, Nk, Hkv, D], LSE [B, H, Nq]).
/// Calls are asynchronous on the accelerator's default stream: results are ready after <see cref="Synchronize"/> or a
/// copy back to the host.
/// </summary>
/// <remarks>
/// Supported today: fp16 and bf16 storage, head dims 64 and 128, any sequence lengths (seqlen_q ≠ seqlen_k included),
/// causal (bottom-right aligned) and sliding-window masks, MQA/GQA, any finite softmax scale, softcap, a key padding
/// mask, ALiBi slopes (both copied to the device on each call) and dropout (Philox4x32-10, the same mask as the CPU
/// backend bit for bit). ALiBi and dropout run in their own kernel instantiations, so calls without them keep the fast
/// path. The cosine variant, custom modifiers, returned softmax, packed variable-length batches and the backward pass
/// are not implemented on the GPU yet and throw <see cref="NotSupportedException"/>.
/// </remarks>
public sealed partial class CudaAttention : IDisposable
{
    private static readonly Lazy<KernelCompiler> Compiler = new(() => new KernelCompiler(), isThreadSafe: true);

    /// <summary>Head dimensions with a compiled kernel.</summary>
    public static IReadOnlyList<int> SupportedHeadDims { get; } = [64, 128];

    private static readonly Dictionary<int, string> DefaultVariants = new()
    {
        [64] = "D64_M128_N64_W4",
        [128] = "D128_M128_N48_W4_QS",
    };

    private readonly Context? _ownedContext;
    private readonly Accelerator? _ownedAccelerator;
    private readonly ConcurrentDictionary<MethodInfo, LoadedKernel> _kernels = new();
    private readonly Lock _maskGate = new();
    private MemoryBuffer1D<byte, Stride1D.Dense>? _keyMaskBuffer;
    private MemoryBuffer1D<float, Stride1D.Dense>? _alibiBuffer;
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

    /// <summary>Waits until every call enqueued so far has finished.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>
    /// Forward pass: output = softmax(scale·q·kᵀ, masked)·v and the log-sum-exp of every query row (natural log; a row
    /// that sees no key gets output 0 and LSE +∞). All buffers must belong to <see cref="Accelerator"/>.
    /// </summary>
    /// <typeparam name="T"><see cref="System.Half"/> (or <see cref="ILGPU.Half"/>) or <see cref="BFloat16"/>.</typeparam>
    /// <param name="shape">Batch, lengths, heads and head dim.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="output">Receives the output [B, Nq, H, D].</param>
    /// <param name="lse">Receives the log-sum-exp [B, H, Nq], float32.</param>
    /// <param name="options">Scale and masks; null for the defaults.</param>
    /// <exception cref="ArgumentException">A shape, a length or an option is invalid.</exception>
    /// <exception cref="NotSupportedException">The element type, head dim or an option has no GPU kernel yet.</exception>
    public void Forward<T>(AttentionShape shape, ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<T, Stride1D.Dense> v, ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse,
        AttentionOptions? options = null)
        where T : unmanaged
    {
        var problem = new AttentionProblem(shape, options);
        Forward(DefaultVariant(shape.HeadDim), shape, problem, q, k, v, output, lse);
    }

    /// <summary>The kernel variant used for a head dimension.</summary>
    internal static ForwardVariant DefaultVariant(int headDim) =>
        DefaultVariants.TryGetValue(headDim, out var name)
            ? ForwardVariant.Find(name)
            : throw new NotSupportedException(
                $"The CUDA backend has kernels for head dims {string.Join(", ", SupportedHeadDims)}; got {headDim}. Use the CPU backend (Attention.Forward) for other sizes.");

    /// <summary>Forward pass with a named kernel variant (benchmarks and tests).</summary>
    internal void Forward<T>(ForwardVariant variant, AttentionShape shape, AttentionOptions? options,
        ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<T, Stride1D.Dense> v,
        ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse)
        where T : unmanaged =>
        Forward(variant, shape, new AttentionProblem(shape, options), q, k, v, output, lse);

    private void Forward<T>(ForwardVariant variant, AttentionShape shape, AttentionProblem problem,
        ArrayView1D<T, Stride1D.Dense> q, ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<T, Stride1D.Dense> v,
        ArrayView1D<T, Stride1D.Dense> output, ArrayView1D<float, Stride1D.Dense> lse)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var kind = ElementKind<T>();
        CheckSupported(problem, variant, shape);
        string shapeText = problem.ShapeText;
        CheckView(q, shape.QueryLength, nameof(q), shapeText);
        CheckView(k, shape.KeyValueLength, nameof(k), shapeText);
        CheckView(v, shape.KeyValueLength, nameof(v), shapeText);
        CheckView(output, shape.QueryLength, nameof(output), shapeText);
        CheckView(lse, shape.LseLength, nameof(lse), shapeText);
        if (shape.SeqLenQ == 0)
            return;

        var kernel = GetKernel(variant, kind, ScoreMode(problem), Features(problem));
        ulong keyMask = problem.KeyMask is { } mask ? UploadKeyMask(mask) : 0UL;
        ulong alibi = problem.AlibiSlopes is not null ? UploadAlibi(problem) : 0UL;
        var parameters = Parameters(variant, shape, problem, Address(q), Address(k), Address(v), Address(output), Address(lse), keyMask, alibi);
        Launch(kernel, (parameters.QueryBlocks, shape.Heads, shape.Batch), parameters,
            Range(q), Range(k), Range(v), Range(output), Range(lse), KeyMaskRange(keyMask), AlibiRange(alibi));
    }

    /// <summary>
    /// Enqueues a loaded kernel on the default stream (the GPU), or runs it to completion (the host emulation, which is
    /// told the device memory the launch may touch).
    /// </summary>
    internal void Launch<TParams>(LoadedKernel kernel, (int X, int Y, int Z) grid, TParams parameters, params (ulong Address, long Bytes)[] ranges)
        where TParams : unmanaged
    {
        if (grid.X == 0 || grid.Y == 0 || grid.Z == 0)
            return;
        if (kernel.Module is { } module)
        {
            Accelerator.Bind();
            module.Launch(((CudaStream)Accelerator.DefaultStream).StreamPtr, grid, kernel.Threads, kernel.SharedBytes, parameters);
        }
        else
        {
            kernel.Emulated!.Launch(grid, kernel.Threads, kernel.SharedBytes, parameters, ranges);
        }
    }

    /// <summary>The device memory of a view, for the emulation's bounds checks.</summary>
    internal static (ulong Address, long Bytes) Range<TElement>(ArrayView1D<TElement, Stride1D.Dense> view)
        where TElement : unmanaged =>
        (Address(view), view.LengthInBytes);

    private (ulong, long) KeyMaskRange(ulong address) => address == 0 ? default : (address, _keyMaskBuffer!.LengthInBytes);

    private (ulong, long) AlibiRange(ulong address) => address == 0 ? default : (address, _alibiBuffer!.LengthInBytes);

    /// <summary>The kernel parameters of one call (pure; tested without a GPU).</summary>
    internal static ForwardParams Parameters(ForwardVariant variant, AttentionShape shape, AttentionOptions? options,
        ulong q, ulong k, ulong v, ulong output, ulong lse, ulong keyMask = 0, ulong alibi = 0) =>
        Parameters(variant, shape, new AttentionProblem(shape, options), q, k, v, output, lse, keyMask, alibi);

    /// <summary>The features type parameter of the kernel for these options (tested without a GPU).</summary>
    internal static Type Features(AttentionShape shape, AttentionOptions? options) => Features(new AttentionProblem(shape, options));

    private static Type Features(AttentionProblem problem) =>
        (problem.AlibiSlopes is not null, problem.Dropout.Enabled) switch
        {
            (false, false) => typeof(NoFeatures),
            (true, false) => typeof(AlibiFeature),
            (false, true) => typeof(DropoutFeature),
            (true, true) => typeof(AlibiDropoutFeatures),
        };

    /// <summary>ALiBi slopes expanded to [B·H] and multiplied by log2(e), the units of the kernel's logits (tested without a GPU).</summary>
    internal static float[] AlibiSlopesLog2(AttentionShape shape, AttentionOptions? options) => AlibiSlopesLog2(new AttentionProblem(shape, options));

    private static float[] AlibiSlopesLog2(AttentionProblem problem)
    {
        var slopes = problem.AlibiSlopes ?? throw new InvalidOperationException("No ALiBi slopes.");
        var result = new float[problem.Batch * problem.Heads];
        for (int b = 0; b < problem.Batch; b++)
            for (int h = 0; h < problem.Heads; h++)
                result[b * problem.Heads + h] = (float)(slopes[(problem.AlibiPerBatch ? b * problem.Heads : 0) + h] * Log2E);
        return result;
    }

    /// <summary>The score-mode type parameter of the kernel for these options (tested without a GPU).</summary>
    internal static Type ScoreMode(AttentionShape shape, AttentionOptions? options) => ScoreMode(new AttentionProblem(shape, options));

    private static Type ScoreMode(AttentionProblem problem) =>
        problem.Softcap > 0 ? typeof(SoftcapScore)
        : problem.Scale < 0 ? typeof(NegativeScale)
        : typeof(PositiveScale);

    /// <summary>Validates options against what the kernels implement (tested without a GPU).</summary>
    internal static void CheckSupported(AttentionShape shape, AttentionOptions? options, ForwardVariant variant) =>
        CheckSupported(new AttentionProblem(shape, options), variant, shape);

    private static ForwardParams Parameters(ForwardVariant variant, AttentionShape shape, AttentionProblem problem,
        ulong q, ulong k, ulong v, ulong output, ulong lse, ulong keyMask, ulong alibi) => new()
    {
        Q = q,
        K = k,
        V = v,
        O = output,
        Lse = lse,
        KeyMask = keyMask,
        SeqQ = shape.SeqLenQ,
        SeqK = shape.SeqLenK,
        Heads = shape.Heads,
        KvHeads = shape.KvHeads,
        GroupSize = shape.Heads / shape.KvHeads,
        QueryBlocks = BlockInfo.BlockCount(shape.SeqLenQ, variant.BlockM),
        WindowLeft = problem.WindowLeft,
        WindowRight = problem.WindowRight,
        ScaleLog2 = problem.Softcap > 0 ? (float)(problem.Softcap * Log2E) : ScaleLog2(problem.Scale),
        PrepScale = problem.Softcap > 0 ? (float)(2 * Log2E * problem.Scale / problem.Softcap) : 0f,
        Alibi = alibi,
        DropSeedLow = problem.Dropout.SeedLow,
        DropKeyHigh = problem.Dropout.KeyHigh,
        DropOffsetLow = problem.Dropout.OffsetLow,
        KeepThreshold = problem.Dropout.KeepThreshold,
        DropScale = problem.Dropout.Enabled ? problem.Dropout.KeepScale : 1f,
    };

    private const double Log2E = 1.4426950408889634;

    /// <summary>
    /// scale·log2(e), the factor that puts scores in base-2 units. A zero scale becomes a tiny positive one, so that masked
    /// entries (-inf) still scale to -inf instead of NaN; every other score then scales to 0, as it should.
    /// </summary>
    internal static float ScaleLog2(float scale) => scale == 0f ? 1e-30f : (float)(scale * Log2E);

    /// <summary>
    /// Copies the key padding mask to the device as one byte per key, into a buffer reused across calls. The copy is
    /// ordered on the default stream, so it never overtakes a kernel still reading the previous mask.
    /// </summary>
    private ulong UploadKeyMask(bool[] mask)
    {
        var bytes = new byte[mask.Length];
        for (int i = 0; i < mask.Length; i++)
            bytes[i] = mask[i] ? (byte)1 : (byte)0;
        lock (_maskGate)
        {
            if (_keyMaskBuffer is null || _keyMaskBuffer.Length < bytes.Length)
            {
                _keyMaskBuffer?.Dispose();
                _keyMaskBuffer = Accelerator.Allocate1D<byte>(Math.Max(bytes.Length, 1024));
            }
            _keyMaskBuffer.View.SubView(0, bytes.Length).CopyFromCPU(Accelerator.DefaultStream, bytes);
            return Address(_keyMaskBuffer.View);
        }
    }

    /// <summary>Copies the [B·H] ALiBi slopes (in log2 units) to the device, into a buffer reused across calls (stream-ordered, as the key mask).</summary>
    private ulong UploadAlibi(AttentionProblem problem)
    {
        var slopes = AlibiSlopesLog2(problem);
        lock (_maskGate)
        {
            if (_alibiBuffer is null || _alibiBuffer.Length < slopes.Length)
            {
                _alibiBuffer?.Dispose();
                _alibiBuffer = Accelerator.Allocate1D<float>(Math.Max(slopes.Length, 256));
            }
            _alibiBuffer.View.SubView(0, slopes.Length).CopyFromCPU(Accelerator.DefaultStream, slopes);
            return Address(_alibiBuffer.View);
        }
    }

    /// <summary>Throws <see cref="NotSupportedException"/> for what the GPU kernels do not implement yet.</summary>
    private static void CheckSupported(AttentionProblem problem, ForwardVariant variant, AttentionShape shape)
    {
        if (shape.HeadDim != variant.HeadDim)
            throw new NotSupportedException($"Kernel {variant.Name} is for head dim {variant.HeadDim}; the shape has {shape.HeadDim}.");
        if (problem.Variant != AttentionVariant.Softmax)
            throw new NotSupportedException("The CUDA backend does not implement cosine-similarity attention yet; use the CPU backend.");
        if (shape.Heads > 65535 || shape.Batch > 65535)
            throw new NotSupportedException($"The CUDA grid holds at most 65535 heads and 65535 sequences; got {shape.Heads} heads, batch {shape.Batch}.");
    }

    internal static Type ElementKind<T>() =>
        typeof(T) == typeof(System.Half) || typeof(T) == typeof(ILGPU.Half) ? typeof(Fp16Kind)
        : typeof(T) == typeof(BFloat16) ? typeof(Bf16Kind)
        : throw new NotSupportedException($"Element type {typeof(T).Name} is not supported by the CUDA backend; use System.Half, ILGPU.Half or BFloat16.");

    private void CheckView<TElement>(ArrayView1D<TElement, Stride1D.Dense> view, long expected, string name, string shapeText)
        where TElement : unmanaged
    {
        if (view.Length != expected)
            throw new ArgumentException($"{name} must have {expected} elements for shape {shapeText}; got {view.Length}.", name);
        if (expected > 0 && view.GetAccelerator() != Accelerator)
            throw new ArgumentException($"{name} belongs to another accelerator; allocate it on {nameof(CudaAttention)}.{nameof(Accelerator)}.", name);
    }

    internal static ulong Address<TElement>(ArrayView1D<TElement, Stride1D.Dense> view)
        where TElement : unmanaged =>
        view.Length == 0 ? 0UL : (ulong)view.AsContiguous().LoadEffectiveAddressAsPtr().ToInt64();

    /// <summary>Compiles (once per instance) and loads a kernel variant for an element kind and scale sign, without features.</summary>
    internal LoadedKernel GetKernel(ForwardVariant variant, Type kind, Type sign) => GetKernel(variant, kind, sign, typeof(NoFeatures));

    /// <summary>Compiles (once per instance) and loads a kernel variant for an element kind, score mode and features.</summary>
    internal LoadedKernel GetKernel(ForwardVariant variant, Type kind, Type sign, Type features) =>
        GetKernel(variant.Method(kind, sign, features), variant.Name, variant.Threads, variant.SharedBytes);

    /// <summary>
    /// Compiles (once per instance) and loads a kernel method with all generic arguments bound: PTX for the driver on a
    /// GPU, or the C# itself on the host emulation.
    /// </summary>
    internal LoadedKernel GetKernel(MethodInfo method, string name, int threads, int sharedBytes) =>
        _kernels.GetOrAdd(method, m =>
        {
            if (IsEmulated)
                return new LoadedKernel(name, threads, sharedBytes, null, new EmulatedKernel(Accelerator, m), null);
            var (ptx, entry) = Compiler.Value.Compile(m, threads);
            Accelerator.Bind();
            var module = CudaModule.Load(ptx, entry);
            if (sharedBytes > 0)
                module.SetDynamicSharedMemory(sharedBytes);
            return new LoadedKernel(name, threads, sharedBytes, module, null, ptx);
        });

    /// <summary>Releases the loaded modules, and the accelerator and context when this instance created them.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        Accelerator.Bind();
        foreach (var kernel in _kernels.Values)
            kernel.Module?.Dispose();
        _kernels.Clear();
        _keyMaskBuffer?.Dispose();
        _alibiBuffer?.Dispose();
        _rowWorkspace?.Dispose();
        _dqWorkspace?.Dispose();
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
