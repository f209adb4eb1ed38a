// Every export of rxnet and rxnet/testing has a TSDoc summary and an @example (a deprecated alias: a link to what
// replaces it), and every public member a doc comment.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
const ENTRIES = ['lib/index.ts', 'lib/testing/index.ts', 'lib/observe/otelMetrics.ts'];

/** The library's program, compiled with the options the published declarations are built with. */
function libraryProgram(root: string, entries: string[]): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.build.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error('tsconfig.build.json could not be read');
  return ts.createProgram(
    entries.map((e) => path.join(root, e)),
    { ...config.options, noEmit: true },
  );
}

/** A JSDoc summary written on this very declaration. */
function hasOwnSummary(declaration: ts.Node): boolean {
  return ts
    .getJSDocCommentsAndTags(declaration)
    .some((doc) => ts.isJSDoc(doc) && (ts.getTextOfJSDocComment(doc.comment)?.trim().length ?? 0) > 0);
}

function hasText(parts: ts.SymbolDisplayPart[]): boolean {
  return ts.displayPartsToString(parts).trim().length > 0;
}

/**
 * Lists what lacks documentation, one line per gap, each naming the symbol; and the exports it
 * checked. Declarations outside `root`/lib (Node's, RxJS's, TypeScript's) are not ours to document.
 */
function findGaps(program: ts.Program, root: string, entries: string[]): { gaps: string[]; exports: string[] } {
  const checker = program.getTypeChecker();
  const inLibrary = (node: ts.Node): boolean =>
    path.relative(root, node.getSourceFile().fileName).startsWith(`lib${path.sep}`);
  const gaps: string[] = [];
  const seen = new Set<ts.Symbol>();
  const exports: string[] = [];

  const isInternal = (symbol: ts.Symbol): boolean =>
    symbol.getJsDocTags(checker).some((tag) => tag.name === 'internal');

  /** A JSDoc summary on the symbol itself, or inherited from the member it implements or overrides. */
  const documented = (symbol: ts.Symbol): boolean => hasText(symbol.getDocumentationComment(checker));

  /** The `/** ... *\/` comments between `from` and the start of `node` (a union variant's own comment). */
  const docCommentBefore = (node: ts.Node, from: number): string | undefined => {
    const text = node.getSourceFile().text.slice(from, node.getStart());
    const comments = text.match(/\/\*\*[\s\S]*?\*\//g);
    const last = comments?.[comments.length - 1];
    return last &&
      last
        .replace(/^\/\*\*|\*\/$/g, '')
        .replace(/^\s*\*/gm, '')
        .trim().length > 0
      ? last
      : undefined;
  };

  /** The literal value of a variant's `type` (or `kind`) discriminant, to name the variant in messages. */
  const variantName = (literal: ts.TypeLiteralNode, index: number): string => {
    for (const member of literal.members) {
      if (
        ts.isPropertySignature(member) &&
        member.type &&
        ts.isLiteralTypeNode(member.type) &&
        ts.isStringLiteral(member.type.literal) &&
        ['type', 'kind'].includes(member.name.getText())
      ) {
        return `<${member.type.literal.text}>`;
      }
    }
    return `[${index}]`;
  };

  /** The parts of a declaration a reader sees in the docs: its type, parameters and return type, never a body. */
  const checkDeclaredTypes = (declaration: ts.Declaration, owner: string): void => {
    if (ts.isFunctionLike(declaration)) {
      for (const parameter of declaration.parameters) checkInlineTypes(parameter.type, owner);
      checkInlineTypes(declaration.type, owner);
    } else if (
      ts.isPropertyDeclaration(declaration) ||
      ts.isPropertySignature(declaration) ||
      ts.isVariableDeclaration(declaration)
    ) {
      checkInlineTypes(declaration.type, owner);
    }
  };

  /** Checks the members of object types written inline anywhere inside `node`. */
  const checkInlineTypes = (node: ts.Node | undefined, owner: string): void => {
    if (!node) return;
    if (ts.isTypeLiteralNode(node)) {
      checkTypeLiteral(node, owner);
      return;
    }
    ts.forEachChild(node, (child) => checkInlineTypes(child, owner));
  };

  const checkTypeLiteral = (literal: ts.TypeLiteralNode, owner: string): void => {
    for (const member of literal.members) {
      if (!ts.isPropertySignature(member) && !ts.isMethodSignature(member)) {
        checkInlineTypes(member, owner);
        continue;
      }
      const name = `${owner}.${member.name.getText()}`;
      const symbol = checker.getSymbolAtLocation(member.name);
      if (symbol && isInternal(symbol)) continue;
      if (!symbol || !documented(symbol)) gaps.push(`${name}: member without a doc comment`);
      checkDeclaredTypes(member, name);
    }
  };

  /** Union variants of a type alias: each object variant needs its own comment (TypeDoc shows it beside the variant). */
  const checkTypeAliasBody = (type: ts.TypeNode, owner: string): void => {
    if (!ts.isUnionTypeNode(type)) {
      checkInlineTypes(type, owner);
      return;
    }
    let from = type.pos;
    type.types.forEach((variant, i) => {
      if (ts.isTypeLiteralNode(variant)) {
        const name = `${owner}${variantName(variant, i)}`;
        if (!docCommentBefore(variant, from)) gaps.push(`${name}: union variant without a doc comment`);
        checkTypeLiteral(variant, name);
      } else {
        checkInlineTypes(variant, owner);
      }
      from = variant.end;
    });
  };

  /** Members of a class (instance and static) or interface, including those inherited from lib/ types. */
  const checkMembers = (members: ts.Symbol[], owner: string): void => {
    for (const member of members) {
      const declarations = (member.declarations ?? []).filter(inLibrary);
      if (declarations.length === 0 || member.name === 'prototype' || member.name.startsWith('__#')) continue;
      const flags = ts.getCombinedModifierFlags(declarations[0]);
      if (flags & ts.ModifierFlags.Private || ts.isPrivateIdentifier(ts.getNameOfDeclaration(declarations[0])!)) {
        continue;
      }
      if (isInternal(member)) continue;
      const name = `${owner}.${member.name}`;
      if (!documented(member)) gaps.push(`${name}: member without a doc comment`);
      // TypeDoc documents a getter and a setter apart: each needs its own comment.
      const accessors = declarations.filter((d) => ts.isGetAccessor(d) || ts.isSetAccessor(d));
      if (accessors.length > 1) {
        for (const accessor of accessors.filter((d) => !hasOwnSummary(d))) {
          gaps.push(`${name}: ${ts.isGetAccessor(accessor) ? 'getter' : 'setter'} without a doc comment of its own`);
        }
      }
      for (const declaration of declarations) checkDeclaredTypes(declaration, name);
    }
  };

  /**
   * A former name kept for old code needs no summary nor example of its own, only a `@deprecated`
   * tag linking to the export that replaces it (`{@link decodeLines}`, `{@link field.char}`).
   */
  const checkDeprecated = (tag: ts.JSDocTagInfo, name: string, entryExports: ReadonlySet<string>): void => {
    const target = tag.text?.find((part) => part.kind === 'linkName')?.text;
    if (target === undefined) {
      gaps.push(`${name}: @deprecated without a {@link} to the name that replaces it`);
    } else if (!entryExports.has(target.split('.')[0])) {
      gaps.push(`${name}: @deprecated links to ${target}, which the entry point does not export publicly`);
    }
  };

  const checkExport = (exported: ts.Symbol, entry: string, entryExports: ReadonlySet<string>): void => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (seen.has(symbol)) return;
    seen.add(symbol);
    const name = `${entry}: ${exported.name}`;
    if (isInternal(symbol)) return;
    exports.push(exported.name);
    const tags = symbol.getJsDocTags(checker);
    const deprecated = tags.find((tag) => tag.name === 'deprecated');
    if (deprecated) {
      checkDeprecated(deprecated, name, entryExports);
    } else {
      if (!documented(symbol)) gaps.push(`${name}: export without a summary`);
      if (!tags.some((tag) => tag.name === 'example')) gaps.push(`${name}: export without an @example`);
    }
    for (const declaration of symbol.declarations ?? []) {
      if (ts.isClassDeclaration(declaration)) {
        const instance = checker.getDeclaredTypeOfSymbol(symbol);
        const statics = checker.getTypeOfSymbol(symbol);
        checkMembers(checker.getPropertiesOfType(instance), exported.name);
        checkMembers(checker.getPropertiesOfType(statics), exported.name);
        for (const ctor of declaration.members.filter(ts.isConstructorDeclaration)) {
          if (ts.getCombinedModifierFlags(ctor) & ts.ModifierFlags.Private) continue;
          if (ts.getJSDocTags(ctor).some((tag) => tag.tagName.text === 'internal')) continue;
          if (!hasOwnSummary(ctor)) gaps.push(`${exported.name}.constructor: constructor without a doc comment`);
        }
      } else if (ts.isInterfaceDeclaration(declaration)) {
        checkMembers(checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol)), exported.name);
      } else if (ts.isTypeAliasDeclaration(declaration)) {
        checkTypeAliasBody(declaration.type, exported.name);
      } else if (ts.isEnumDeclaration(declaration)) {
        checkMembers(
          declaration.members.map((m) => checker.getSymbolAtLocation(m.name)!),
          exported.name,
        );
      } else if (ts.isVariableDeclaration(declaration)) {
        let init = declaration.initializer;
        while (
          init &&
          (ts.isAsExpression(init) || ts.isSatisfiesExpression(init) || ts.isParenthesizedExpression(init))
        ) {
          init = init.expression;
        }
        if (init && ts.isObjectLiteralExpression(init)) {
          checkMembers(
            init.properties.map((p) => checker.getSymbolAtLocation(p.name!)!),
            exported.name,
          );
        }
        checkDeclaredTypes(declaration, exported.name);
      } else if (ts.isFunctionDeclaration(declaration)) {
        checkDeclaredTypes(declaration, exported.name);
      }
    }
  };

  for (const entry of entries) {
    const source = program.getSourceFile(path.join(root, entry));
    const module = source && checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`${entry} is not a module`);
    const exported = checker.getExportsOfModule(module);
    const aliased = (e: ts.Symbol) => (e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e);
    const names = new Set(exported.filter((e) => !isInternal(aliased(e))).map((e) => e.name));
    for (const symbol of exported) checkExport(symbol, entry, names);
  }
  return { gaps, exports };
}

/** A library of one file, lib/index.ts, with one gap of every kind the check knows. */
const FIXTURE = `
/** Documented, with an example.
 * @example
 * \`\`\`ts
 * new Documented();
 * \`\`\`
 */
export class Documented {}

export function bare(options: { limit: number }): void {}

/** A union.
 * @example x
 */
export type Event = { type: 'open' } | /** Closed. */ { type: 'close'; hadError: boolean };

/** Limits. @example x */
export const LIMITS = { max: 1 };

/** A class. @example x */
export class Box extends Error {
  constructor(readonly size: number) {
    super();
  }
  /** Read it. */
  get width(): number {
    return 1;
  }
  set width(value: number) {}
  private hidden = 0;
}

/** @internal */
export function helper(): void {}

/** @deprecated The former name of {@link Documented}, kept so that old code compiles. */
export const Former = Documented;

/** @deprecated Use the other one. */
export type Vague = Event;

/** @deprecated The former name of {@link helper}. */
export const Stale = helper;
`;

describe('TSDoc coverage', () => {
  let found: ReturnType<typeof findGaps>;
  beforeAll(() => {
    found = findGaps(libraryProgram(ROOT, ENTRIES), ROOT, ENTRIES);
  });

  it('names every kind of gap it checks for (on a fixture with one of each)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxnet-tsdoc-'));
    try {
      fs.mkdirSync(path.join(dir, 'lib'));
      fs.writeFileSync(path.join(dir, 'lib/index.ts'), FIXTURE);
      const fixture = findGaps(libraryProgram(dir, ['lib/index.ts']), dir, ['lib/index.ts']);
      expect(fixture.gaps).toEqual([
        'lib/index.ts: bare: export without a summary',
        'lib/index.ts: bare: export without an @example',
        'bare.limit: member without a doc comment',
        'Event<open>: union variant without a doc comment',
        'Event<open>.type: member without a doc comment',
        'Event<close>.type: member without a doc comment',
        'Event<close>.hadError: member without a doc comment',
        'LIMITS.max: member without a doc comment',
        'Box.size: member without a doc comment',
        'Box.width: setter without a doc comment of its own',
        'Box.constructor: constructor without a doc comment',
        'lib/index.ts: Vague: @deprecated without a {@link} to the name that replaces it',
        'lib/index.ts: Stale: @deprecated links to helper, which the entry point does not export publicly',
      ]);
      // Not the @internal helper.
      expect([...fixture.exports].sort()).toEqual([
        'Box',
        'Documented',
        'Event',
        'Former',
        'LIMITS',
        'Stale',
        'Vague',
        'bare',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('walks the exports of both entry points', () => {
    // Guards the check itself: a walk that found nothing would pass everything.
    expect(found.exports).toEqual(expect.arrayContaining(['listen', 'connect', 'SocketConnection', 'MemoryWire']));
    expect(found.exports.length).toBeGreaterThan(100);
  });

  it('every export has a summary and an @example, every public member a doc comment', () => {
    // One line per gap, so the failure names every symbol (a long array diff would be cut short).
    const report = found.gaps.length === 0 ? '' : `${found.gaps.length} gaps:\n${found.gaps.join('\n')}`;
    expect(report).toBe('');
  });
});
