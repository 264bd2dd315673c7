import { Undo } from "./undo";

describe("undo stack", () => {
  it("undoes completed steps newest first when a later step fails", async () => {
    const done: string[] = [];
    const undo = new Undo();
    await expect(
      undo.guard(async () => {
        undo.push("a", () => done.push("a"));
        undo.push("b", () => done.push("b"));
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(done).toEqual(["b", "a"]);
  });
});
