import { describe, expect, it } from 'vitest';
import { inlineText } from '../../src/extension/webviewAssets';

describe('inlineText', () => {
  it('keeps script text and drops the source-map comment', () => {
    expect(inlineText('var a = "<!-->";\n//# sourceMappingURL=workbench.js.map\n', 'script')).toBe(
      'var a = "<!-->";\n',
    );
    expect(inlineText('a{b:c}\n/*# sourceMappingURL=workbench.css.map */', 'style')).toBe('a{b:c}\n');
  });

  it('refuses text the HTML parser would end early or misread', () => {
    expect(inlineText('s = "</script><img src=x onerror=alert(1)>"', 'script')).toBeNull();
    expect(inlineText('s = "</SCRIPT >"', 'script')).toBeNull();
    expect(inlineText('s = "<!--<script>"', 'script')).toBeNull();
    expect(inlineText('a{content:"</style>"}', 'style')).toBeNull();
  });
});
