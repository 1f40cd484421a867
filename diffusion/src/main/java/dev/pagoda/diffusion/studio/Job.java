package dev.pagoda.diffusion.studio;

import dev.pagoda.diffusion.pipeline.Cancellation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One queued piece of work (a generation or a compare grid) and the events it has produced so far.
 * Progress readers ({@code GET /api/progress/{id}}) replay the log from any point and then wait for
 * more, so a page that connects late or reconnects misses nothing.
 */
final class Job {

    enum State { QUEUED, RUNNING, DONE, CANCELLED, FAILED }

    /** One progress event; {@code seq} increases across all jobs of a server (the order they happened in). */
    record Event(long seq, String type, Map<String, Object> data) {
    }

    /** What a job does once it reaches the head of the queue; returns the data of its "done" event. */
    interface Work {
        Map<String, Object> run(Job job);
    }

    private final String id;
    private final String kind;
    private final Work work;
    private final AtomicLong clock;
    private final Cancellation cancellation = new Cancellation();
    private final List<Event> events = new ArrayList<>();
    private State state = State.QUEUED;

    Job(String id, String kind, Work work, AtomicLong clock) {
        this.id = id;
        this.kind = kind;
        this.work = work;
        this.clock = clock;
    }

    String id() {
        return id;
    }

    String kind() {
        return kind;
    }

    Work work() {
        return work;
    }

    Cancellation cancellation() {
        return cancellation;
    }

    synchronized State state() {
        return state;
    }

    synchronized boolean finished() {
        return state == State.DONE || state == State.CANCELLED || state == State.FAILED;
    }

    /**
     * Appends an event (the job's id is added to its data) and wakes the readers. A preview replaces
     * the previous one: a reader that comes late needs only the latest, and a log of every preview
     * of a long SDXL run would hold megabytes per job.
     */
    synchronized Event emit(String type, Map<String, Object> data) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("job", id);
        d.putAll(data);
        Event e = new Event(clock.incrementAndGet(), type, d);
        if (type.equals("preview")) {
            events.removeIf(old -> old.type().equals("preview"));
        }
        events.add(e);
        notifyAll();
        return e;
    }

    synchronized void start() {
        state = State.RUNNING;
        emit("started", Map.of());
    }

    /** Moves to a final state with its closing event; later calls are ignored. */
    synchronized void finish(State end, String type, Map<String, Object> data) {
        if (finished()) {
            return;
        }
        state = end;
        emit(type, data);
    }

    /**
     * The events with a sequence number above {@code afterSeq}, waiting up to {@code waitMs} for one
     * unless the job has finished; empty when nothing came in that time.
     */
    synchronized List<Event> eventsAfter(long afterSeq, long waitMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + waitMs;
        while (!finished() && (events.isEmpty() || events.get(events.size() - 1).seq() <= afterSeq)) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                break;
            }
            wait(left);
        }
        return events.stream().filter(e -> e.seq() > afterSeq).toList();
    }

    synchronized Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("kind", kind);
        m.put("state", state.name().toLowerCase(java.util.Locale.ROOT));
        Event last = events.isEmpty() ? null : events.get(events.size() - 1);
        if (last != null) {
            m.put("last_event", last.type());
            m.put("last", last.data());
        }
        return m;
    }
}
