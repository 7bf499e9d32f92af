using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ILGPU;

namespace FlashAttention.Cuda.Ptx;

/// <summary>
/// Runs the kernels' PTX intrinsics on the host, so the very kernels that go to the GPU can be checked on ILGPU's CPU
/// accelerator (which executes a kernel's C# with one host thread per GPU thread). Warp-collective instructions
/// (<c>mma.sync</c>, <c>ldmatrix</c>, <c>shfl.sync</c>) are emulated by an exchange through per-warp slots and one
/// warp barrier; shared memory is a byte array per thread block addressed from 0; <c>cp.async</c> copies are queued per
/// thread and performed at the latest moment the PTX semantics allow (<c>cp.async.wait_group</c>), so a kernel that
/// reads a tile before waiting for it sees stale data here as it could on the GPU.
/// </summary>
/// <remarks>
/// Faults (a shared or global address out of range, an intrinsic called outside an emulated launch by a kernel thread)
/// never throw inside a kernel thread, where an exception would leave the other threads waiting at a barrier forever:
/// the first one is recorded, the access is skipped, and <see cref="EmulatedLaunch.Dispose"/> throws it after the launch.
/// Exact arithmetic differs from the GPU only where PTX is approximate (ex2/lg2/rcp.approx are computed exactly here).
/// </remarks>
internal static unsafe class HostSimt
{
    private const string HostOnly = "PTX intrinsic: only callable inside a kernel compiled by the CUDA backend or run by the host emulation.";
    private static EmulatedLaunch? _active;

    /// <summary>Whether an emulated launch is running (intrinsics called outside one throw, as before emulation existed).</summary>
    private static EmulatedLaunch Active => _active ?? throw new NotSupportedException(HostOnly);

    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    /// <summary>Starts an emulated launch; only one runs at a time (a second waits for the first to end).</summary>
    /// <param name="sharedBytes">Dynamic shared memory per thread block.</param>
    /// <param name="globalRanges">The device memory the kernel may touch, as (address, bytes); accesses elsewhere are faults.</param>
    public static EmulatedLaunch Begin(int sharedBytes, IReadOnlyList<(ulong Address, long Bytes)> globalRanges)
    {
        var launch = new EmulatedLaunch(sharedBytes, globalRanges);
        OneAtATime.Wait();
        _active = launch;
        return launch;
    }

    internal static void End(EmulatedLaunch launch)
    {
        if (Interlocked.CompareExchange(ref _active, null, launch) == launch)
            OneAtATime.Release();
    }

    // ---- per-thread context ----

    private static (EmulatedLaunch Launch, BlockState Block, int Tid) Context()
    {
        var launch = Active;
        int linear = (Grid.IdxZ * Grid.DimY + Grid.IdxY) * Grid.DimX + Grid.IdxX;
        var block = launch.Blocks.GetOrAdd(linear, _ => new BlockState(launch.SharedBytes, Group.DimX));
        return (launch, block, Group.IdxX);
    }

    /// <summary>Publishes this lane's words for one warp-collective step and returns the slot set all lanes wrote.</summary>
    private static uint[] Exchange(BlockState block, int tid, ReadOnlySpan<uint> words)
    {
        int warp = tid >> 5, lane = tid & 31;
        int parity = block.Steps[tid]++ & 1;
        var slots = block.Slots[warp * 2 + parity];
        words.CopyTo(slots.AsSpan(lane * SlotWords, words.Length));
        // One barrier per step: a lane writes the other parity's slots next, which every lane finished reading
        // before it arrived here.
        Warp.Barrier();
        return slots;
    }

    private const int SlotWords = 8;

    // ---- intrinsics ----

    public static uint SharedBase() => 0;

    /// <summary>mma.sync.m16n8k16.row.col, fp32 accumulators; <paramref name="bf16"/> picks the element type.</summary>
    public static Float4 Mma(bool bf16, float c0, float c1, float c2, float c3, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
    {
        var (_, block, tid) = Context();
        var slots = Exchange(block, tid, [a0, a1, a2, a3, b0, b1]);
        int lane = tid & 31, g = lane >> 2, t = lane & 3;
        // Row r of A (16 k values) lives in lanes 4(r mod 8) .. +3: registers 0/2 (r < 8) or 1/3 (r ≥ 8);
        // column n of B lives in lanes 4n .. +3, registers 4 and 5.
        Span<float> rowLo = stackalloc float[16], rowHi = stackalloc float[16];
        for (int q = 0; q < 4; q++)
        {
            int src = (4 * g + q) * SlotWords;
            Unpack(bf16, slots[src + 0], out rowLo[2 * q], out rowLo[2 * q + 1]);
            Unpack(bf16, slots[src + 2], out rowLo[8 + 2 * q], out rowLo[8 + 2 * q + 1]);
            Unpack(bf16, slots[src + 1], out rowHi[2 * q], out rowHi[2 * q + 1]);
            Unpack(bf16, slots[src + 3], out rowHi[8 + 2 * q], out rowHi[8 + 2 * q + 1]);
        }
        Span<float> col0 = stackalloc float[16], col1 = stackalloc float[16];
        for (int q = 0; q < 4; q++)
        {
            int s0 = (4 * (2 * t) + q) * SlotWords, s1 = (4 * (2 * t + 1) + q) * SlotWords;
            Unpack(bf16, slots[s0 + 4], out col0[2 * q], out col0[2 * q + 1]);
            Unpack(bf16, slots[s0 + 5], out col0[8 + 2 * q], out col0[8 + 2 * q + 1]);
            Unpack(bf16, slots[s1 + 4], out col1[2 * q], out col1[2 * q + 1]);
            Unpack(bf16, slots[s1 + 5], out col1[8 + 2 * q], out col1[8 + 2 * q + 1]);
        }
        return new Float4
        {
            X = c0 + Dot(rowLo, col0),
            Y = c1 + Dot(rowLo, col1),
            Z = c2 + Dot(rowHi, col0),
            W = c3 + Dot(rowHi, col1),
        };
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < 16; i++)
            sum += (double)a[i] * b[i];
        return (float)sum;
    }

    private static void Unpack(bool bf16, uint word, out float lo, out float hi)
    {
        lo = Decode(bf16, (ushort)word);
        hi = Decode(bf16, (ushort)(word >> 16));
    }

    private static float Decode(bool bf16, ushort bits) =>
        bf16 ? BitConverter.Int32BitsToSingle(bits << 16) : (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>ldmatrix.x4 (optionally .trans): matrix i's eight row addresses come from lanes 8i .. 8i+7.</summary>
    public static Uint4 LdMatrix(uint address, bool transpose)
    {
        var (launch, block, tid) = Context();
        var slots = Exchange(block, tid, [address]);
        int lane = tid & 31, g = lane >> 2, t = lane & 3;
        Span<uint> result = stackalloc uint[4];
        for (int i = 0; i < 4; i++)
        {
            if (!transpose)
            {
                // Row g of matrix i, elements 2t and 2t + 1.
                result[i] = block.ReadShared32(launch, slots[(8 * i + g) * SlotWords] + 4u * (uint)t);
            }
            else
            {
                // Column g of matrix i, elements of rows 2t and 2t + 1.
                uint lo = block.ReadShared16(launch, slots[(8 * i + 2 * t) * SlotWords] + 2u * (uint)g);
                uint hi = block.ReadShared16(launch, slots[(8 * i + 2 * t + 1) * SlotWords] + 2u * (uint)g);
                result[i] = lo | (hi << 16);
            }
        }
        return new Uint4 { X = result[0], Y = result[1], Z = result[2], W = result[3] };
    }

    /// <summary>shfl.sync.bfly over the full warp.</summary>
    public static float ShuffleXor(float value, int laneMask)
    {
        var (_, block, tid) = Context();
        var slots = Exchange(block, tid, [BitConverter.SingleToUInt32Bits(value)]);
        int source = (tid & 31) ^ (laneMask & 31);
        return BitConverter.UInt32BitsToSingle(slots[source * SlotWords]);
    }

    /// <summary>shfl.sync.bfly.b32 of a word over the full warp.</summary>
    public static uint ShuffleXorBits(uint value, int laneMask)
    {
        var (_, block, tid) = Context();
        var slots = Exchange(block, tid, [value]);
        return slots[((tid & 31) ^ (laneMask & 31)) * SlotWords];
    }

    /// <summary>vote.sync.any over the full warp.</summary>
    public static int VoteAny(int predicate)
    {
        var (_, block, tid) = Context();
        var slots = Exchange(block, tid, [predicate != 0 ? 1u : 0u]);
        for (int lane = 0; lane < 32; lane++)
            if (slots[lane * SlotWords] != 0)
                return 1;
        return 0;
    }

    /// <summary>Queues a 16-byte cp.async of which the first <paramref name="sourceBytes"/> come from global memory, the rest are zeros.</summary>
    public static void CopyAsync(uint shared, ulong global, uint sourceBytes)
    {
        var (_, block, tid) = Context();
        block.Pending[tid].Open.Add(new PendingCopy(shared, global, sourceBytes));
    }

    public static void CommitGroup()
    {
        var (_, block, tid) = Context();
        var queue = block.Pending[tid];
        queue.Committed.Add(queue.Open);
        queue.Open = [];
    }

    /// <summary>cp.async.wait_group: performs every committed group but the newest <paramref name="pending"/>.</summary>
    public static void WaitGroup(int pending)
    {
        var (launch, block, tid) = Context();
        var queue = block.Pending[tid];
        while (queue.Committed.Count > pending)
        {
            foreach (var copy in queue.Committed[0])
                block.Perform(launch, copy);
            queue.Committed.RemoveAt(0);
        }
    }

    public static uint LoadShared32(uint address)
    {
        var (launch, block, _) = Context();
        return block.ReadShared32(launch, address);
    }

    public static void StoreShared32(uint address, uint value)
    {
        var (launch, block, _) = Context();
        block.WriteShared32(launch, address, value);
    }

    public static T LoadGlobal<T>(ulong address) where T : unmanaged
    {
        var launch = Active;
        return launch.CheckGlobal(address, sizeof(T)) ? *(T*)address : default;
    }

    public static void StoreGlobal<T>(ulong address, T value) where T : unmanaged
    {
        var launch = Active;
        if (launch.CheckGlobal(address, sizeof(T)))
            *(T*)address = value;
    }

    /// <summary>red.global.add.f32: an atomic float add.</summary>
    public static void AtomicAdd(ulong address, float value)
    {
        var launch = Active;
        if (!launch.CheckGlobal(address, 4))
            return;
        ref int cell = ref Unsafe.AsRef<int>((void*)address);
        int seen = Volatile.Read(ref cell);
        while (true)
        {
            int updated = BitConverter.SingleToInt32Bits(BitConverter.Int32BitsToSingle(seen) + value);
            int previous = Interlocked.CompareExchange(ref cell, updated, seen);
            if (previous == seen)
                return;
            seen = previous;
        }
    }

    // ---- state ----

    internal readonly record struct PendingCopy(uint Shared, ulong Global, uint SourceBytes);

    internal sealed class CopyQueue
    {
        public List<PendingCopy> Open = [];
        public readonly List<List<PendingCopy>> Committed = [];
    }

    internal sealed class BlockState
    {
        public readonly byte[] Shared;
        public readonly uint[][] Slots;
        public readonly int[] Steps;
        public readonly CopyQueue[] Pending;

        public BlockState(int sharedBytes, int threads)
        {
            Shared = new byte[sharedBytes];
            // Uninitialised shared memory on the GPU: fill with a NaN pattern so reads before writes show.
            Shared.AsSpan().Fill(0xFF);
            int warps = (threads + 31) / 32;
            Slots = new uint[warps * 2][];
            for (int i = 0; i < Slots.Length; i++)
                Slots[i] = new uint[32 * SlotWords];
            Steps = new int[threads];
            Pending = new CopyQueue[threads];
            for (int i = 0; i < threads; i++)
                Pending[i] = new CopyQueue();
        }

        public uint ReadShared32(EmulatedLaunch launch, uint address) =>
            CheckShared(launch, address, 4) ? Unsafe.ReadUnaligned<uint>(ref Shared[address]) : 0u;

        public uint ReadShared16(EmulatedLaunch launch, uint address) =>
            CheckShared(launch, address, 2) ? Unsafe.ReadUnaligned<ushort>(ref Shared[address]) : 0u;

        public void WriteShared32(EmulatedLaunch launch, uint address, uint value)
        {
            if (CheckShared(launch, address, 4))
                Unsafe.WriteUnaligned(ref Shared[address], value);
        }

        public void Perform(EmulatedLaunch launch, PendingCopy copy)
        {
            if (!CheckShared(launch, copy.Shared, 16))
                return;
            var target = Shared.AsSpan((int)copy.Shared, 16);
            target.Clear();
            uint bytes = Math.Min(copy.SourceBytes, 16u);
            if (bytes > 0 && launch.CheckGlobal(copy.Global, (int)bytes, alignment: 16))
                new ReadOnlySpan<byte>((void*)copy.Global, (int)bytes).CopyTo(target);
        }

        private bool CheckShared(EmulatedLaunch launch, uint address, int bytes)
        {
            if ((address & (uint)(bytes - 1)) != 0)
                return launch.Fault($"misaligned {bytes}-byte shared access at {address}");
            if ((long)address + bytes > Shared.Length)
                return launch.Fault($"shared access at {address} (+{bytes}) past the {Shared.Length} bytes of the block");
            return true;
        }
    }
}

/// <summary>One emulated kernel launch: its shared-memory size, the global ranges it may touch, and the first fault.</summary>
internal sealed class EmulatedLaunch : IDisposable
{
    private readonly (ulong Start, ulong End)[] _ranges;
    private string? _fault;

    public EmulatedLaunch(int sharedBytes, IReadOnlyList<(ulong Address, long Bytes)> ranges)
    {
        SharedBytes = sharedBytes;
        _ranges = ranges.Where(r => r.Bytes > 0).Select(r => (r.Address, r.Address + (ulong)r.Bytes)).ToArray();
    }

    public int SharedBytes { get; }

    public ConcurrentDictionary<int, HostSimt.BlockState> Blocks { get; } = new();

    /// <summary>Records the first fault; returns false so callers can skip the access.</summary>
    public bool Fault(string what)
    {
        Interlocked.CompareExchange(ref _fault, what, null);
        return false;
    }

    public bool CheckGlobal(ulong address, int bytes) => CheckGlobal(address, bytes, bytes);

    public bool CheckGlobal(ulong address, int bytes, int alignment)
    {
        if ((address & (ulong)(alignment - 1)) != 0)
            return Fault($"misaligned {bytes}-byte global access at 0x{address:X}");
        foreach (var (start, end) in _ranges)
            if (address >= start && address + (ulong)bytes <= end)
                return true;
        return Fault($"global access at 0x{address:X} (+{bytes}) outside every buffer of the launch");
    }

    /// <summary>Ends the launch; throws if any thread faulted.</summary>
    public void Dispose()
    {
        HostSimt.End(this);
        if (_fault is not null)
            throw new InvalidOperationException("Emulated kernel fault: " + _fault);
    }
}
