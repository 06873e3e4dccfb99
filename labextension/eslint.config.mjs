import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['lib/**', 'node_modules/**', '../seldon_jupyter/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    rules: {
      eqeqeq: 'error',
      curly: 'error',
      '@typescript-eslint/no-explicit-any': 'error'
    }
  }
);
