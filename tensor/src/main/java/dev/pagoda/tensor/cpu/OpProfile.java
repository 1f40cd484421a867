package dev.pagoda.tensor.cpu;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where the time of a forward goes, per backend operation: calls, wall time, the arithmetic of the
 * products (matmul, linear, conv2d, attention) and the bytes the calling thread allocated.
 *
 * <p>Off unless the JVM starts with {@code -Dpagoda.profile=true}; then {@link Backend#cpu()} is a
 * decorator that times every call (the plain backend otherwise, so there is no cost when off).
 * Only outermost calls count: an op that calls another op through the backend is timed once, as
 * itself. Allocation is the calling thread's ({@code ThreadMXBean}); the pool's workers allocate
 * little, as the kernels write into the output the caller allocated.
 */
public final class OpProfile {

    /** Whether this JVM profiles (fixed at start, so {@link Backend#cpu()} stays a constant). */
    public static final boolean ENABLED = Boolean.getBoolean("pagoda.profile");
    /**
     * With {@code -Dpagoda.profile.shapes=true} too, products are totalled per shape (linear's
     * {@code M×K×N}, conv2d's input and weight shapes, attention's q and k), to find the shapes
     * that run below the kernel's rate.
     */
    static final boolean BY_SHAPE = Boolean.getBoolean("pagoda.profile.shapes");

    /** One operation's totals. */
    public record Entry(String op, long calls, long nanos, double flops, long allocatedBytes) {
    }

    private static final class Totals {
        final LongAdder calls = new LongAdder();
        final LongAdder nanos = new LongAdder();
        final LongAdder allocated = new LongAdder();
        final java.util.concurrent.atomic.DoubleAdder flops = new java.util.concurrent.atomic.DoubleAdder();
    }

    private static final Map<String, Totals> TOTALS = new ConcurrentHashMap<>();
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private OpProfile() {
    }

    static Backend wrap(Backend plain) {
        InvocationHandler h = (proxy, m, args) -> invoke(plain, m, args);
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, h);
    }

    private static Object invoke(Backend plain, Method m, Object[] args) throws Throwable {
        int[] depth = DEPTH.get();
        boolean timed = depth[0] == 0 && m.getReturnType() == Tensor.class;
        long alloc0 = timed ? THREADS.getCurrentThreadAllocatedBytes() : 0;
        long t0 = timed ? System.nanoTime() : 0;
        depth[0]++;
        Object out;
        try {
            out = m.invoke(plain, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        } finally {
            depth[0]--;
        }
        if (timed) {
            long dt = System.nanoTime() - t0;
            Totals t = TOTALS.computeIfAbsent(BY_SHAPE ? key(m.getName(), args) : m.getName(), k -> new Totals());
            t.calls.increment();
            t.nanos.add(dt);
            t.allocated.add(THREADS.getCurrentThreadAllocatedBytes() - alloc0);
            t.flops.add(flops(m.getName(), args, (Tensor) out));
        }
        return out;
    }

    private static String key(String op, Object[] args) {
        return switch (op) {
            case "matmul", "linear" -> {
                int[] a = ((Tensor) args[0]).shape();
                Tensor b = (Tensor) args[1];
                int k = a[a.length - 1];
                int n = op.equals("linear") ? b.dim(0) : b.dim(-1);
                yield op + " " + (Shapes.numel(a) / k) + "x" + k + "x" + n + " " + b.dtype();
            }
            case "conv2d" -> op + " " + Shapes.str(((Tensor) args[0]).shape()) + " w" + Shapes.str(((Tensor) args[1]).shape());
            case "attention" -> op + " q" + Shapes.str(((Tensor) args[0]).shape()) + " k" + Shapes.str(((Tensor) args[1]).shape());
            default -> op;
        };
    }

    /** Multiply-adds counted as two operations; zero for ops that are not products. */
    static double flops(String op, Object[] args, Tensor out) {
        switch (op) {
            case "matmul", "linear" -> {
                Tensor a = (Tensor) args[0];
                return 2.0 * out.numel() * a.shape()[a.rank() - 1];
            }
            case "conv2d" -> {
                int[] w = ((Tensor) args[1]).shape();
                return 2.0 * out.numel() * w[1] * w[2] * w[3];
            }
            case "attention" -> {
                int[] q = ((Tensor) args[0]).shape();
                int[] k = ((Tensor) args[1]).shape();
                int[] v = ((Tensor) args[2]).shape();
                boolean[] identity = (boolean[]) args[6];
                int rows = q[0];
                if (identity != null) {
                    for (boolean b : identity) {
                        rows -= b ? 1 : 0;
                    }
                }
                return 2.0 * rows * q[1] * k[1] * ((double) q[2] + v[2]);
            }
            default -> {
                return 0;
            }
        }
    }

    /** Forgets what was recorded so far (e.g. after a warm-up call). */
    public static void reset() {
        TOTALS.clear();
    }

    /** The totals so far, the most time first. */
    public static List<Entry> entries() {
        List<Entry> list = new ArrayList<>();
        TOTALS.forEach((op, t) -> list.add(new Entry(op, t.calls.sum(), t.nanos.sum(), t.flops.sum(),
                t.allocated.sum())));
        list.sort(Comparator.comparingLong(Entry::nanos).reversed());
        return list;
    }

    /**
     * A table of {@link #entries()} with each op's share of {@code wallNanos} (the whole forward;
     * what the ops do not cover is shown as "outside ops": module code, views, host copies).
     */
    public static String table(long wallNanos) {
        StringBuilder sb = new StringBuilder();
        int width = 20;
        for (Entry e : entries()) {
            width = Math.max(width, e.op().length());
        }
        String name = "%-" + width + "s";
        sb.append(String.format(Locale.ROOT, name + " %8s %10s %7s %10s %9s %10s%n", "op", "calls", "seconds", "share",
                "GFLOP", "GFLOP/s", "alloc GB"));
        long covered = 0;
        for (Entry e : entries()) {
            covered += e.nanos();
            double s = e.nanos() / 1e9;
            sb.append(String.format(Locale.ROOT, name + " %8d %10.3f %6.1f%% %10.1f %9s %10.2f%n", e.op(), e.calls(), s,
                    100.0 * e.nanos() / wallNanos, e.flops() / 1e9,
                    e.flops() > 0 ? String.format(Locale.ROOT, "%.1f", e.flops() / 1e9 / s) : "-",
                    e.allocatedBytes() / 1e9));
        }
        long rest = wallNanos - covered;
        sb.append(String.format(Locale.ROOT, name + " %8s %10.3f %6.1f%%%n", "outside ops", "", rest / 1e9,
                100.0 * rest / wallNanos));
        return sb.toString();
    }
}
