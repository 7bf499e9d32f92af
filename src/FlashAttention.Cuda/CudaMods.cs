using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlashAttention.Cuda.Ptx;

namespace FlashAttention.Cuda;

/// <summary>Where one score sits, as the GPU kernels see it (what a <see cref="ICudaScoreMod"/> or <see cref="ICudaMaskMod"/> may depend on).</summary>
/// <param name="Batch">Sequence index.</param>
/// <param name="Head">Query head index.</param>
/// <param name="QueryIndex">Query position inside its sequence.</param>
/// <param name="KeyIndex">Key position inside its sequence.</param>
/// <param name="SeqLenQ">Query length of this sequence.</param>
/// <param name="SeqLenK">Key length of this sequence.</param>
public readonly record struct CudaScorePosition(int Batch, int Head, int QueryIndex, int KeyIndex, int SeqLenQ, int SeqLenK);

/// <summary>
/// A score modifier for the GPU kernels (FlexAttention's score_mod): replaces each scaled score s (after softcap) by
/// f(s, position). The kernels are generic over the implementing struct, which ILGPU compiles into them: keep it to
/// arithmetic on its arguments and on its own fields (numbers, or device addresses read with <see cref="CudaDeviceMemory"/>).
/// The struct is passed to the kernel by value, so its fields are the mod's parameters.
/// </summary>
public interface ICudaScoreMod
{
    /// <summary>False only for <see cref="NoCudaScoreMod"/>: a constant, so the kernels without a mod contain no mod code.</summary>
    bool Enabled { get; }

    /// <summary>f(score) at one position.</summary>
    /// <param name="score">The scaled score.</param>
    /// <param name="at">Where it sits.</param>
    float Apply(float score, in CudaScorePosition at);

    /// <summary>df/dscore at one position, evaluated at the unmodified score (the backward pass needs it).</summary>
    /// <param name="score">The scaled score before modification.</param>
    /// <param name="at">Where it sits.</param>
    float Derivative(float score, in CudaScorePosition at);
}

/// <summary>
/// A mask for the GPU kernels (FlexAttention's mask_mod): which (query, key) pairs may attend, on top of the built-in
/// causal, window and key-padding masks. <see cref="Classify"/> lets the kernels skip tiles; answering
/// <see cref="BlockCoverage.Partial"/> is always correct.
/// </summary>
public interface ICudaMaskMod
{
    /// <summary>False only for <see cref="NoCudaMaskMod"/>: a constant, so the kernels without a mask contain no mask code.</summary>
    bool Enabled { get; }

    /// <summary>Whether the query at <paramref name="at"/> may see the key at <paramref name="at"/>.</summary>
    /// <param name="at">The pair.</param>
    bool IsVisible(in CudaScorePosition at);

    /// <summary>Whether every pair of a tile is hidden, every pair visible, or some of each. Must never be wrong; Partial is always safe.</summary>
    /// <param name="tile">The tile (sequence-relative indices, ends exclusive).</param>
    BlockCoverage Classify(in TileBounds tile);
}

/// <summary>No score modifier (the kernels specialised on it contain none).</summary>
public readonly struct NoCudaScoreMod : ICudaScoreMod
{
    /// <inheritdoc />
    public bool Enabled => false;

    /// <inheritdoc />
    public float Apply(float score, in CudaScorePosition at) => score;

    /// <inheritdoc />
    public float Derivative(float score, in CudaScorePosition at) => 1f;
}

/// <summary>No mask beyond the built-in ones.</summary>
public readonly struct NoCudaMaskMod : ICudaMaskMod
{
    /// <inheritdoc />
    public bool Enabled => false;

    /// <inheritdoc />
    public bool IsVisible(in CudaScorePosition at) => true;

    /// <inheritdoc />
    public BlockCoverage Classify(in TileBounds tile) => BlockCoverage.Full;
}

/// <summary>Reads of device memory from inside a GPU score or mask modifier (the address of a buffer the caller allocated).</summary>
public static class CudaDeviceMemory
{
    /// <summary>The int at element <paramref name="index"/> of the int array at <paramref name="address"/>.</summary>
    /// <param name="address">Device address of the array (for example from <see cref="CudaAttention.AddressOf{T}"/>).</param>
    /// <param name="index">Element index.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Int(ulong address, long index) => PtxOps.LoadInt(address + (ulong)(index * 4));

    /// <summary>The float at element <paramref name="index"/> of the float array at <paramref name="address"/>.</summary>
    /// <param name="address">Device address of the array.</param>
    /// <param name="index">Element index.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Float(ulong address, long index) => PtxOps.LoadFloat(address + (ulong)(index * 4));

    /// <summary>The byte at element <paramref name="index"/> of the byte array at <paramref name="address"/>.</summary>
    /// <param name="address">Device address of the array.</param>
    /// <param name="index">Element index.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Byte(ulong address, long index) => (byte)PtxOps.LoadByte(address + (ulong)index);
}

/// <summary>The user's score and mask modifiers, passed to every kernel by value as its second parameter.</summary>
/// <typeparam name="TScore">The score modifier.</typeparam>
/// <typeparam name="TMask">The mask.</typeparam>
[StructLayout(LayoutKind.Sequential)]
internal struct ModPair<TScore, TMask>
    where TScore : struct, ICudaScoreMod
    where TMask : struct, ICudaMaskMod
{
    public TScore Score;
    public TMask Mask;

    public ModPair(TScore score, TMask mask)
    {
        Score = score;
        Mask = mask;
    }
}
