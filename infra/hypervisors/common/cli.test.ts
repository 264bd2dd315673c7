import { orUndefined } from "./cli";

describe("orUndefined (the CLI wrappers' tryRun)", () => {
  it("passes the arguments through and returns what the call returns", () => {
    const run = jest.fn((args: string[]) => `ran ${args.join(" ")}`);
    expect(orUndefined(run)(["dominfo", "vm"])).toBe("ran dominfo vm");
    expect(run).toHaveBeenCalledWith(["dominfo", "vm"]);
  });

  it("returns undefined where the call throws", () => {
    const fails = orUndefined((_args: string[]): string => {
      throw new Error("error: failed to get domain 'vm'");
    });
    expect(fails(["dominfo", "vm"])).toBeUndefined();
  });

  it("keeps an empty answer (a command that printed nothing) apart from a failure", () => {
    expect(orUndefined(() => "")()).toBe("");
  });
});
