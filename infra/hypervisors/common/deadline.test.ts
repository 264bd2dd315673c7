import { Deadline, sleep } from "./deadline";

describe("Deadline", () => {
  it("counts from its creation, by the clock it is given", () => {
    let t = 1000;
    const d = new Deadline(500, () => t);
    t = 1200;
    expect([d.elapsed(), d.remaining(), d.passed()]).toEqual([200, 300, false]);
    t = 1700;
    expect([d.remaining(), d.passed()]).toEqual([0, true]);
  });

  it("race: the promise's value when it comes first", async () => {
    await expect(
      new Deadline(1000).race(
        sleep(10).then(() => "v"),
        () => new Error("late"),
      ),
    ).resolves.toBe("v");
  });

  it("race: the error built at the deadline when the promise is later", async () => {
    let built = 0;
    const started = Date.now();
    const never = new Promise<string>(() => undefined);
    await expect(
      new Deadline(100).race(never, () => new Error(`late after ${++built} build`)),
    ).rejects.toThrow("late after 1 build");
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it("poll: the first answer, without waiting out the bound", async () => {
    let n = 0;
    const d = new Deadline(5000);
    await expect(d.poll(async () => (++n === 3 ? "up" : undefined), 10)).resolves.toBe("up");
    expect(n).toBe(3);
    expect(d.elapsed()).toBeLessThan(2000);
  });

  it("poll: undefined once the deadline passed, with a last attempt at the deadline", async () => {
    const times: number[] = [];
    const d = new Deadline(250);
    await expect(d.poll(async () => void times.push(d.elapsed()), 100)).resolves.toBeUndefined();
    expect(times.length).toBeLessThanOrEqual(4);
    expect(times[times.length - 1]).toBeGreaterThanOrEqual(245);
  });

  it("poll: bounded by count when the clock stands still", async () => {
    let n = 0;
    const d = new Deadline(50, () => 0);
    await expect(d.poll(async () => void n++, 10)).resolves.toBeUndefined();
    expect(n).toBe(6);
  });
});
