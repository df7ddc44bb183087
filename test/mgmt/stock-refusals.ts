/**
 * How stock glusterd 10.3 words a refused `volume set` (the text after "volume set: failed: "),
 * by the check that refused it, so that a table row names the check and its bounds and the
 * text follows from the value: each shape below was observed with a live stock glusterd.
 */

/** The text for a refused value. */
export type Refusal = (value: string) => string;

/** Stock's answer to a value: 'ok', a refusal, or a fixed text. */
export type Answer = Refusal | string;

/** The text an answer expects for `value`. */
export const answerText = (answer: Answer, value: string): string =>
  typeof answer === 'function' ? answer(value) : answer;

/** A number outside the option's range; `parsed` when stock shows the value converted (sizes). */
export const outOfRange =
  (option: string, min: number, max: number, parsed?: number): Refusal =>
  (v) =>
    `'${parsed ?? v}' in 'option ${option} ${v}' is out of range [${min} - ${max}]`;

/** A number under an option's minimum when it has no maximum. */
export const belowMinimum =
  (option: string, min: number): Refusal =>
  (v) =>
    `'${v}' in 'option ${option} ${v}' is smaller than minimum value '${min}'`;

export const notNumber =
  (option: string): Refusal =>
  (v) =>
    `invalid number format "${v}" in option "${option}"`;

export const notTime =
  (option: string): Refusal =>
  (v) =>
    `invalid time format "${v}" in "option ${option}"`;

/** A boolean option of a translator. */
export const notBoolean =
  (option: string): Refusal =>
  (v) =>
    `option ${option} ${v}: '${v}' is not a valid boolean value`;

/** A boolean key glusterd checks itself (before any translator). */
export const notBooleanKey =
  (key: string): Refusal =>
  (v) =>
    `${v} is not a valid boolean value. ${key} expects a valid boolean value.`;

export const notOneOf =
  (option: string, choices: readonly string[]): Refusal =>
  (v) =>
    `option ${option} ${v}: '${v}' is not valid (possible options are ${choices.join(', ')}.)`;
