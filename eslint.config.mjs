// ESLint flat config: typescript-eslint with type information, Prettier owns formatting.
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'imports/**',
      'node_modules/**',
      'app/dist/**',
      '.services/**',
      '.cdk8s.out/**',
      '.package/**',
      'artifacts/**',
      // Compiled by their own strict tsconfig against the packed library (test/packaging/).
      'examples/**',
      'test/packaging/fixtures/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  prettier,
);
