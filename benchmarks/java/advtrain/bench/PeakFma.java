package advtrain.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * This machine's peak float32 FMA rate, the yardstick the kernels are reported against. Each call
 * runs ITERATIONS rounds of 12 independent fused multiply-adds on vector registers (enough chains to
 * hide the FMA latency on both FMA pipes), touching no memory. Scores are ops/ns = GFLOP/s (an FMA is
 * two flops). {@code peak1} runs on one thread, {@code peak2} on two at once (JMH sums their rates);
 * 512-bit and 256-bit vectors are both measured, since some cores split 512-bit operations in two.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:-UseLoopPredicate"})
public class PeakFma {
    static final int ITERATIONS = 100_000, CHAINS = 12;
    static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512, S256 = FloatVector.SPECIES_256;

    float a = 1.0000001f, b = 0.9999999f;

    @Setup public void setup() { a = 1.0000001f; b = 0.9999999f; }

    /*
     * 12 accumulators, acc = acc * a + b on every one, ITERATIONS times; returns their sum. Written
     * out once per vector size: the Vector API compiles to vector instructions only where the species
     * is a constant, so it cannot be a parameter.
     */
    static float chains512(float a, float b) {
        FloatVector va = FloatVector.broadcast(S512, a), vb = FloatVector.broadcast(S512, b);
        FloatVector c0 = vb, c1 = vb.add(1), c2 = vb.add(2), c3 = vb.add(3), c4 = vb.add(4), c5 = vb.add(5);
        FloatVector c6 = vb.add(6), c7 = vb.add(7), c8 = vb.add(8), c9 = vb.add(9), c10 = vb.add(10), c11 = vb.add(11);
        for (int i = 0; i < ITERATIONS; i++) {
            c0 = c0.fma(va, vb); c1 = c1.fma(va, vb); c2 = c2.fma(va, vb); c3 = c3.fma(va, vb);
            c4 = c4.fma(va, vb); c5 = c5.fma(va, vb); c6 = c6.fma(va, vb); c7 = c7.fma(va, vb);
            c8 = c8.fma(va, vb); c9 = c9.fma(va, vb); c10 = c10.fma(va, vb); c11 = c11.fma(va, vb);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

    static float chains256(float a, float b) {
        FloatVector va = FloatVector.broadcast(S256, a), vb = FloatVector.broadcast(S256, b);
        FloatVector c0 = vb, c1 = vb.add(1), c2 = vb.add(2), c3 = vb.add(3), c4 = vb.add(4), c5 = vb.add(5);
        FloatVector c6 = vb.add(6), c7 = vb.add(7), c8 = vb.add(8), c9 = vb.add(9), c10 = vb.add(10), c11 = vb.add(11);
        for (int i = 0; i < ITERATIONS; i++) {
            c0 = c0.fma(va, vb); c1 = c1.fma(va, vb); c2 = c2.fma(va, vb); c3 = c3.fma(va, vb);
            c4 = c4.fma(va, vb); c5 = c5.fma(va, vb); c6 = c6.fma(va, vb); c7 = c7.fma(va, vb);
            c8 = c8.fma(va, vb); c9 = c9.fma(va, vb); c10 = c10.fma(va, vb); c11 = c11.fma(va, vb);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

    @Benchmark @Threads(1) @OperationsPerInvocation(ITERATIONS * CHAINS * 16 * 2)
    public float peak1x512() { return chains512(a, b); }

    @Benchmark @Threads(2) @OperationsPerInvocation(ITERATIONS * CHAINS * 16 * 2)
    public float peak2x512() { return chains512(a, b); }

    @Benchmark @Threads(1) @OperationsPerInvocation(ITERATIONS * CHAINS * 8 * 2)
    public float peak1x256() { return chains256(a, b); }

    @Benchmark @Threads(2) @OperationsPerInvocation(ITERATIONS * CHAINS * 8 * 2)
    public float peak2x256() { return chains256(a, b); }
}
