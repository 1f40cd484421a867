package dev.pagoda.diffusion.studio;

import dev.pagoda.diffusion.pipeline.GenerationCancelledException;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs jobs one at a time, in the order they were submitted, on one worker thread: the loaded
 * pipeline is never asked for two images at once, so a second request waits instead of halving the
 * speed of the first. A queued job can be cancelled before it starts (it never runs); a running
 * one is asked to stop at its next step.
 */
final class JobQueue implements AutoCloseable {

    /** Finished jobs remembered for {@code GET /api/progress} after the fact. */
    private static final int KEEP = 256;

    private final AtomicLong clock = new AtomicLong();
    private final AtomicLong ids = new AtomicLong();
    private final ArrayDeque<Job> waiting = new ArrayDeque<>();
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final Thread worker;
    private Job running;
    private boolean closed;

    JobQueue() {
        worker = Thread.ofPlatform().name("pagoda-studio-worker").daemon(true).unstarted(this::loop);
        worker.start();
    }

    /** Queues {@code work}; the job's first event says how many jobs are ahead of it. */
    synchronized Job submit(String kind, Job.Work work) {
        if (closed) {
            throw new ApiException(503, null, "the studio is shutting down");
        }
        // a counter for order, a random tail so ids of an earlier server run are not mistaken for new ones
        String id = ids.incrementAndGet() + "-" + Integer.toString(java.util.concurrent.ThreadLocalRandom.current()
                .nextInt(36 * 36 * 36, 36 * 36 * 36 * 36), 36);
        Job job = new Job(id, kind, work, clock);
        jobs.put(job.id(), job);
        while (jobs.size() > KEEP) {
            String oldest = jobs.keySet().iterator().next();
            if (!jobs.get(oldest).finished()) {
                break;
            }
            jobs.remove(oldest);
        }
        int ahead = waiting.size() + (running != null ? 1 : 0);
        waiting.addLast(job);
        job.emit("queued", Map.of("ahead", ahead));
        notifyAll();
        return job;
    }

    synchronized Job find(String id) {
        return jobs.get(id);
    }

    /**
     * Cancels a job: a queued one is dropped at once, a running one stops at its next step (its
     * closing event says so). Returns false when the job had already finished.
     */
    boolean cancel(Job job) {
        synchronized (this) {
            if (waiting.remove(job)) {
                job.finish(Job.State.CANCELLED, "cancelled", Map.of("completed_steps", 0, "reason", "cancelled before"
                        + " it started"));
                return true;
            }
        }
        if (job.finished()) {
            return false;
        }
        job.cancellation().cancel();
        job.emit("cancelling", Map.of());
        return true;
    }

    synchronized Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("running", running == null ? null : running.id());
        m.put("queued", waiting.stream().map(Job::id).toList());
        return m;
    }

    private void loop() {
        while (true) {
            Job job;
            synchronized (this) {
                while (waiting.isEmpty() && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                job = waiting.removeFirst();
                running = job;
            }
            try {
                job.start();
                job.finish(Job.State.DONE, "done", job.work().run(job));
            } catch (GenerationCancelledException e) {
                job.finish(Job.State.CANCELLED, "cancelled", Map.of("completed_steps", e.completedSteps(),
                        "reason", e.getMessage() + "; nothing written"));
            } catch (ApiException e) {
                job.finish(Job.State.FAILED, "error", error(e.getMessage(), e.field()));
            } catch (RuntimeException | Error e) { // any failure ends the job visibly; a dead worker would hang every later job
                job.finish(Job.State.FAILED, "error", error(e.getMessage() == null ? e.toString() : e.getMessage(),
                        null));
            } finally {
                synchronized (this) {
                    running = null;
                    notifyAll();
                }
            }
        }
    }

    static Map<String, Object> error(String message, String field) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        if (field != null) {
            m.put("field", field);
        }
        return m;
    }

    /** Stops taking work, cancels the queue and the running job, and waits for the worker to end. */
    @Override
    public void close() {
        List<Job> dropped;
        Job current;
        synchronized (this) {
            closed = true;
            dropped = List.copyOf(waiting);
            waiting.clear();
            current = running;
            notifyAll();
        }
        for (Job j : dropped) {
            j.finish(Job.State.CANCELLED, "cancelled", Map.of("completed_steps", 0, "reason", "the studio stopped"));
        }
        if (current != null) {
            current.cancellation().cancel();
        }
        try {
            worker.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
