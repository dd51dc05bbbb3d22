import { Testing } from 'cdk8s';
import { MemoStack } from '../../charts/memo-stack';
import { CLOUD, CLOUD_OIDC_ISSUER_PLACEHOLDER, KIND, Profile } from '../../charts/profiles';
import { profilesFromEnvironment } from '../../main';

/** What the profiles decide about sign-in, and how synth's environment fills in the cloud issuer. */
describe('profiles and sign-in', () => {
  const cloudOf = (profiles: Profile[]): Profile => profiles.find((p) => p.name === 'cloud') as Profile;
  const configOf = (profile: Profile): Record<string, string> =>
    new MemoStack(Testing.app(), 'memo', { profile }).api.environment as Record<string, string>;

  let stderr: jest.SpyInstance;
  beforeEach(() => {
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => stderr.mockRestore());

  it('when the cloud profile is built as shipped, then it requires tokens from the placeholder issuer (writes refused, never open)', () => {
    const env = configOf(CLOUD);
    expect(env.OIDC_ISSUER_URL).toBe(CLOUD_OIDC_ISSUER_PLACEHOLDER);
    expect(env.OIDC_AUDIENCE).toBe('memo-api');
    expect(env.OIDC_ADMIN_ROLE).toBe('memo-admin');
  });

  it('when the local profiles are built, then they allow anonymous writes explicitly', () => {
    expect(KIND.api.allowAnonymousWrites).toBe(true);
    expect(configOf(KIND).OIDC_ISSUER_URL).toBe('');
  });

  it('when a profile has neither an issuer nor allowAnonymousWrites, then the stack refuses to build', () => {
    const careless: Profile = { ...CLOUD, api: { ...CLOUD.api, oidc: undefined } };
    expect(() => configOf(careless)).toThrow(
      /MemoApi: oidcIssuerUrl is required \(or allowAnonymousWrites: true/,
    );
  });

  it('when synth runs without MEMO_OIDC_ISSUER_URL, then it notes that the cloud profile uses the placeholder issuer', () => {
    const cloud = cloudOf(profilesFromEnvironment({}));
    expect(cloud.api.oidc?.issuerUrl).toBe(CLOUD_OIDC_ISSUER_PLACEHOLDER);
    const notes = stderr.mock.calls.map((c) => String(c[0]));
    expect(notes.some((n) => n.includes(`placeholder issuer ${CLOUD_OIDC_ISSUER_PLACEHOLDER}`))).toBe(true);
  });

  it('when synth runs with MEMO_OIDC_ISSUER_URL and MEMO_OIDC_AUDIENCE, then the cloud profile uses them and no issuer note is printed', () => {
    const profiles = profilesFromEnvironment({
      MEMO_OIDC_ISSUER_URL: 'https://id.example.org/realms/memo',
      MEMO_OIDC_AUDIENCE: 'memo-prod',
      MEMO_API_IMAGE: 'ghcr.io/example/memo-api:1.0.0',
    });
    expect(cloudOf(profiles).api.oidc).toEqual({
      issuerUrl: 'https://id.example.org/realms/memo',
      audience: 'memo-prod',
      adminRole: 'memo-admin',
    });
    expect(profiles.find((p) => p.name === 'kind')).toBe(KIND);
    expect(stderr.mock.calls.map((c) => String(c[0])).filter((n) => n.includes('issuer'))).toEqual([]);
    expect(configOf(cloudOf(profiles)).OIDC_ISSUER_URL).toBe('https://id.example.org/realms/memo');
  });

  it('when MEMO_OIDC_ISSUER_URL is not an https URL, then building the cloud profile fails naming it', () => {
    const cloud = cloudOf(profilesFromEnvironment({ MEMO_OIDC_ISSUER_URL: 'http://id.example.org' }));
    expect(() => configOf(cloud)).toThrow(
      /MemoApi: oidcIssuerUrl \(OIDC_ISSUER_URL\) must be an https URL.*got "http:\/\/id.example.org"/,
    );
  });
});
